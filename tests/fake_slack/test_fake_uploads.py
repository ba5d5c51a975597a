"""The fake's file uploads refuse what Slack refuses: an empty length, a completion before the
bytes arrived or a second one; and take the bytes raw or multipart-encoded, as Slack does."""

from __future__ import annotations

import aiohttp
import pytest
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.fake_slack import FakeSlack


async def refused(call: object) -> str:
    with pytest.raises(SlackApiError) as error:
        await call  # type: ignore[misc]
    return str(error.value.response["error"])


async def test_a_zero_length_is_a_missing_argument(client: AsyncWebClient) -> None:
    assert await refused(client.files_getUploadURLExternal(filename="a.md", length=0)) == (
        "missing_argument"
    )


async def test_completion_needs_the_bytes_first_and_happens_once(
    fake: FakeSlack, client: AsyncWebClient
) -> None:
    got = await client.files_getUploadURLExternal(filename="a.md", length=5)
    files = [{"id": got["file_id"], "title": "A"}]
    assert await refused(client.files_completeUploadExternal(files=files)) == "file_not_found"
    async with aiohttp.ClientSession() as http, http.post(got["upload_url"], data=b"hello") as r:
        assert r.status == 200 and (await r.text()).startswith("OK")
    await client.files_completeUploadExternal(files=files, channel_id="CREL")
    again = client.files_completeUploadExternal(files=files, channel_id="CREL")
    assert await refused(again) == "file_not_found"
    assert [m.files[0]["id"] for m in fake.messages("CREL")] == [got["file_id"]]


async def test_a_multipart_upload_stores_the_file_not_its_envelope(
    fake: FakeSlack, client: AsyncWebClient
) -> None:
    got = await client.files_getUploadURLExternal(filename="a.md", length=7)
    form = aiohttp.FormData()
    form.add_field("filename", b"# Title", filename="a.md", content_type="text/markdown")
    async with aiohttp.ClientSession() as http, http.post(got["upload_url"], data=form) as r:
        assert r.status == 200
    (stored,) = fake.files()
    assert stored.data == b"# Title"
