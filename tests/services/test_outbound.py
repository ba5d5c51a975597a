"""The outbound path against the fake Slack: posted once across a crash, in order after faults."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import text as sql_text

from bot.fake_slack import FakeSlackThread
from bot.services.deps import Deps
from bot.services.outbox import OutboxService
from bot.slack.client import make_client
from bot.slack.outbound import Outbound
from tests.services.conftest import CHANNEL, T0, enqueue_text


@pytest.fixture
def fake() -> Iterator[FakeSlackThread]:
    with FakeSlackThread() as thread:
        thread.add_channel(CHANNEL, "releases")
        yield thread


def outbound(deps: Deps, fake: FakeSlackThread) -> Outbound:
    """A sender as a freshly started process has it (no pauses remembered)."""
    client = make_client(fake.bot_token, fake.api_url)
    return Outbound(client, OutboxService(deps), deps.db.outbox_ready, 0.0, 0.0)


async def sql(deps: Deps, statement: str) -> None:
    """What a crash leaves, written behind the services' back."""
    async with deps.db.write() as uow:
        await uow.session.execute(sql_text(statement))


async def release(deps: Deps, name: str, *texts: str) -> int:
    async with deps.db.write() as uow:
        opened = await uow.releases.add(name, CHANNEL, None, "UREL", T0, "v1")
    for text in texts:
        await enqueue_text(deps, opened.id, text)
    return opened.id


def thread_texts(fake: FakeSlackThread) -> list[str]:
    replies = fake.messages(CHANNEL, include_replies=True)
    return [m.text for m in replies if m.thread_ts and m.thread_ts != m.ts]


async def test_a_post_that_landed_before_a_crash_is_not_sent_again(
    deps: Deps, fake: FakeSlackThread
) -> None:
    await release(deps, "R 1", "first", "second")
    await outbound(deps, fake).deliver()
    assert thread_texts(fake) == ["first", "second"]
    # The process died after Slack took "second" and before it was recorded as sent.
    await sql(deps, "UPDATE outbox SET sent_at = NULL WHERE text = 'second'")
    await outbound(deps, fake).deliver()
    assert thread_texts(fake) == ["first", "second"]
    # It died before "third" reached Slack: counted as attempted, then sent once.
    await outbound(deps, fake).deliver()
    await enqueue_text(deps, 1, "third")
    await sql(deps, "UPDATE outbox SET attempts = 1 WHERE text = 'third'")
    await outbound(deps, fake).deliver()
    await outbound(deps, fake).deliver()
    assert thread_texts(fake) == ["first", "second", "third"]


async def test_a_card_posted_before_a_crash_is_adopted_not_posted_twice(
    deps: Deps, fake: FakeSlackThread
) -> None:
    release_id = await release(deps, "R 2")
    await outbound(deps, fake).deliver()
    (card,) = fake.messages(CHANNEL)
    await sql(
        deps, f"UPDATE releases SET card_ts = NULL, card_sent_version = 0 WHERE id = {release_id}"
    )
    sender = outbound(deps, fake)
    await sender.deliver()
    await sender.deliver()
    assert [m.ts for m in fake.messages(CHANNEL)] == [card.ts]
    assert [c.method for c in fake.calls()][-1] == "chat.update"
    async with deps.db.read() as uow:
        stored = (await uow.session.execute(sql_text("SELECT card_ts FROM releases"))).one()
    assert tuple(stored) == (card.ts,)


async def test_a_channel_keeps_its_order_when_a_post_must_be_retried(
    deps: Deps, fake: FakeSlackThread
) -> None:
    release_id = await release(deps, "R 3")
    await outbound(deps, fake).deliver()  # the card
    for text in ("Immediate digest", "Extended digest"):
        await enqueue_text(deps, release_id, text, in_thread=False)
    fake.fail("chat.postMessage", status=500)
    await outbound(deps, fake).deliver()  # the first post fails: the second must wait
    await outbound(deps, fake).deliver()
    texts = [m.text for m in fake.messages(CHANNEL)]
    assert texts[1:] == ["Immediate digest", "Extended digest"]  # after the card, at the top
