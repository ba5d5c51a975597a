"""The waiver request redrawn in place (chat.update, outside the sender): Slack's rate
limit is waited out, its Retry-After honoured, rather than leaving the buttons up."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from bot.fake_slack import FakeSlackThread
from bot.slack.client import make_client
from bot.slack.waivers import redraw

CHANNEL = "CRELEASE"


@pytest.fixture
def fake() -> Iterator[FakeSlackThread]:
    with FakeSlackThread() as thread:
        thread.add_channel(CHANNEL, "releases")
        yield thread


async def test_a_rate_limited_redraw_waits_then_lands(fake: FakeSlackThread) -> None:
    client = make_client(fake.bot_token, fake.api_url)
    posted = await client.chat_postMessage(channel=CHANNEL, text="asks to waive", blocks=[])
    fake.fail("chat.update", status=429, count=1, retry_after=1)
    assert await redraw(client, CHANNEL, posted["ts"], "Granted by <@USEC>", [])
    updates = fake.calls("chat.update")
    assert len(updates) == 2 and not updates[0].ok and updates[1].ok
    (message,) = [m for m in fake.messages(CHANNEL) if m.ts == posted["ts"]]
    assert message.text == "Granted by <@USEC>"


async def test_a_refusal_is_given_up_on_and_said(
    fake: FakeSlackThread, caplog: pytest.LogCaptureFixture
) -> None:
    client = make_client(fake.bot_token, fake.api_url)
    assert not await redraw(client, CHANNEL, "1.000", "Granted", [])  # no such message
    assert "could not redraw the waiver request 1.000: message_not_found" in caplog.text
    assert len(fake.calls("chat.update")) == 1
