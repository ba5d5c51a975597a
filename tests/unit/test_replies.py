"""Private replies against the local fake Slack (a real HTTP server): a reply Slack refuses
as invalid is said again as text, and a click Slack can no longer use says to click again."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Iterator

import aiohttp
import pytest
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.domain.errors import InvalidState
from bot.fake_slack import FakeSlackThread
from bot.slack.replies import Replier, describe

CHANNEL, USER = "CRELEASE", "UREL"
BLOCKS = [{"type": "section", "text": {"type": "mrkdwn", "text": "*LUMINES 1.0.0*: 41%"}}]
MODAL = {"type": "modal", "title": {"type": "plain_text", "text": "Sign"}, "blocks": []}


@pytest.fixture(scope="module")
def fake() -> Iterator[FakeSlackThread]:
    with FakeSlackThread() as thread:
        thread.add_channel(CHANNEL, "releases")
        thread.add_user(USER, "release.manager")
        yield thread


@pytest.fixture
async def client(fake: FakeSlackThread) -> AsyncIterator[AsyncWebClient]:
    fake.clear()
    async with aiohttp.ClientSession() as session:
        yield AsyncWebClient(token=fake.bot_token, base_url=fake.api_url, session=session)


def by_url(client: AsyncWebClient, fake: FakeSlackThread) -> Replier:
    return Replier(client, USER, CHANNEL, fake.new_response_url(CHANNEL, USER))


def refusals(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if "refused the reply" in r.getMessage()]


async def test_a_reply_slack_takes_is_sent_once(
    client: AsyncWebClient, fake: FakeSlackThread
) -> None:
    await by_url(client, fake).say("LUMINES 1.0.0: 41% ready", BLOCKS)
    (response,) = fake.responses()[-1:]
    assert response.blocks == BLOCKS and len(fake.calls("response_url")) == 1


async def test_a_response_url_refusing_the_blocks_gets_a_text_instead(
    client: AsyncWebClient, fake: FakeSlackThread, caplog: pytest.LogCaptureFixture
) -> None:
    fake.fail("response_url", status=400, error="invalid_blocks")
    before = len(fake.responses())
    await by_url(client, fake).say("LUMINES 1.0.0: 41% ready", BLOCKS)
    refused, again = fake.calls("response_url")
    assert refused.faulted and refused.status == 400 and refused.args["blocks"] == BLOCKS
    assert not again.faulted and not again.args.get("blocks")
    (told,) = fake.responses()[before:]
    assert told.blocks in (None, []) and told.user == USER
    assert told.text.startswith("LUMINES 1.0.0: 41% ready\n:warning: Slack could not show")
    assert "`/readiness status NAME`" in told.text and "card" in told.text
    assert len(refusals(caplog)) == 1 and "invalid_blocks" in refusals(caplog)[0]


async def test_a_postephemeral_refusing_a_long_answer_gets_a_text_instead(
    client: AsyncWebClient, fake: FakeSlackThread, caplog: pytest.LogCaptureFixture
) -> None:
    fake.fail("chat.postEphemeral", status=200, error="msg_blocks_too_long")
    before = len(fake.ephemerals(USER))
    await Replier(client, USER, CHANNEL, None).say("Open releases", BLOCKS)
    refused, again = fake.calls("chat.postEphemeral")
    assert refused.faulted and refused.args["blocks"] == BLOCKS
    assert not again.faulted and "blocks" not in again.args
    (told,) = fake.ephemerals(USER)[before:]
    assert told.text.startswith("Open releases\n:warning: The answer was too long for Slack")
    assert "`/readiness status NAME`" in told.text and not told.blocks
    assert len(refusals(caplog)) == 1 and "msg_blocks_too_long" in refusals(caplog)[0]


async def test_another_refusal_is_logged_not_said_twice(
    client: AsyncWebClient, fake: FakeSlackThread, caplog: pytest.LogCaptureFixture
) -> None:
    fake.fail("response_url", status=404, error="expired_url")
    before = len(fake.responses())
    await by_url(client, fake).say("LUMINES 1.0.0: 41% ready", BLOCKS)
    assert len(fake.calls("response_url")) == 1 and fake.responses()[before:] == []
    assert not refusals(caplog) and "response_url answered 404" in caplog.text


async def test_an_expired_click_says_to_click_again(
    client: AsyncWebClient, fake: FakeSlackThread, caplog: pytest.LogCaptureFixture
) -> None:
    late = fake.issue_trigger_id(USER, age=10)  # Slack's trigger_ids last 3 seconds
    with pytest.raises(SlackApiError) as refused:
        await client.views_open(trigger_id=late, view=MODAL)
    assert refused.value.response["error"] == "expired_trigger_id"
    said = describe(refused.value)
    assert said.startswith(":warning: The form could not be opened in time")
    assert said.endswith("Please click the button again.") and "error `" not in said
    assert "Slack API error" not in caplog.text  # not an error of ours: no id logged
    before = len(fake.ephemerals(USER))
    await Replier(client, USER, CHANNEL, None).error(refused.value)
    (told,) = fake.ephemerals(USER)[before:]
    assert told.text == said


async def test_a_used_or_unknown_click_says_to_click_again(
    client: AsyncWebClient, fake: FakeSlackThread
) -> None:
    trigger = fake.issue_trigger_id(USER)
    await client.views_open(trigger_id=trigger, view=MODAL)
    for trigger_id, error in ((trigger, "exchanged_trigger_id"), ("1.2.3", "invalid_trigger_id")):
        with pytest.raises(SlackApiError) as refused:
            await client.views_open(trigger_id=trigger_id, view=MODAL)
        assert refused.value.response["error"] == error
        assert describe(refused.value, plain=True).endswith("Please click the button again.")


async def test_an_unexpected_error_keeps_its_id(
    client: AsyncWebClient, fake: FakeSlackThread, caplog: pytest.LogCaptureFixture
) -> None:
    fake.fail("chat.postMessage", status=200, error="channel_not_found")
    with pytest.raises(SlackApiError) as refused:
        await client.chat_postMessage(channel="CNOWHERE", text="hi")
    said = describe(refused.value)
    assert said.startswith(":warning: Something went wrong on our side (error `")
    error_id = said.split("`")[1]
    assert f"Slack API error {error_id}: channel_not_found" in caplog.text
    with caplog.at_level(logging.ERROR):
        assert "(error " in describe(RuntimeError("boom"), plain=True)
    assert describe(InvalidState("Release LUMINES is not open."), plain=True) == (
        "Release LUMINES is not open."
    )
