"""Events API over HTTP: a mention answers in its thread, once per event however often
Slack delivers it."""

from __future__ import annotations

from bot.fake_slack import FakeSlackThread
from tests.scenario.conftest import Slack
from tests.scenario.harness import CHANNEL


def mention(fake: FakeSlackThread, text: str) -> dict[str, str]:
    """A person's message mentioning the bot, as the app_mention event describes it."""
    message = fake.on_loop(lambda f: f.workspace.post(CHANNEL, text, user="UENG"))
    return {
        "type": "app_mention",
        "user": "UENG",
        "text": text,
        "ts": message.ts,
        "channel": CHANNEL,
        "event_ts": message.ts,
    }


def replies(fake: FakeSlackThread, ts: str) -> list[str]:
    return [m.text for m in fake.thread(CHANNEL, ts) if m.ts != ts]


def test_a_mention_is_answered_once_across_retries(
    slack: Slack, fake: FakeSlackThread, name: str
) -> None:
    slack.command("UREL", f"new {name}")
    slack.checks_done(name)
    event = mention(fake, f"<@UBOT> status {name}")
    first = slack.driver.event(event)
    assert first.status_code == 200
    event_id = slack.driver.last_event_id
    for retry in (1, 2):  # Slack redelivers when it thinks the first delivery was missed
        again = slack.driver.event(event, retry_num=retry, event_id=event_id)
        assert again.status_code == 200
    fake.wait_for(lambda s: replies_of(s, event["ts"]) or None, timeout=15)
    other = mention(fake, "<@UBOT> status NOPE 9")
    assert slack.driver.event(other).status_code == 200
    fake.wait_for(lambda s: replies_of(s, other["ts"]) or None, timeout=15)
    (answer,) = replies(fake, event["ts"])
    assert answer.startswith(f"{name}: ") and "% ready" in answer
    assert replies(fake, other["ts"]) == [
        "There is no release named “NOPE 9”. `/readiness list` shows the open ones."
    ]


def outbox_empty(slack: Slack) -> bool:
    return not slack.bot.sql("SELECT count(*) FROM outbox WHERE sent_at IS NULL")[0][0]


def replies_of(fake: object, ts: str) -> list[str]:
    return [m.text for m in fake.thread(CHANNEL, ts) if m.ts != ts]  # type: ignore[attr-defined]


def test_a_mention_whose_answer_slack_refuses_is_told_in_text(
    slack: Slack, fake: FakeSlackThread, name: str
) -> None:
    slack.command("UREL", f"new {name}")
    slack.checks_done(name)
    fake.wait_for(lambda _: outbox_empty(slack) or None, timeout=15)  # the next post is ours
    fake.fail("chat.postMessage", status=200, error="invalid_blocks")
    event = mention(fake, f"<@UBOT> status {name}")
    assert slack.driver.event(event).status_code == 200
    fake.wait_for(lambda s: replies_of(s, event["ts"]) or None, timeout=15)
    (answer,) = replies(fake, event["ts"])
    assert answer.startswith(f"{name}: ") and "Slack could not show the answer" in answer
    assert "/readiness status NAME" in answer
