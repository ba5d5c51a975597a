"""Slack answering 429 and 500 to a burst of card updates and thread posts: the card ends
right, every message is posted once and in order, and the bot waits as told.

Four sign-offs are submitted at once (four thread messages, a run of card updates) while
the fake fails the next chat.update and chat.postMessage calls with rate limits
(Retry-After: 1) and server errors.
"""

from __future__ import annotations

import re
from collections import Counter

from bot.fake_slack import Call
from tests.notices import as_sent
from tests.reliability.helpers import (
    SIGNERS,
    live_signatures,
    open_release,
    post_together,
    query,
    settle,
    submission,
)
from tests.scenario.conftest import Slack
from tests.scenario.harness import Bot, text_of

RETRY_AFTER = 1


def after(calls: list[Call], method: str, failed: Call) -> Call:
    """The next call of METHOD after FAILED."""
    later = [c for c in calls if c.method == method and c.at > failed.at]
    assert later, f"{method} was never retried after {failed.describe()}"
    return min(later, key=lambda c: c.at)


def test_a_burst_through_429s_and_500s_ends_with_the_right_card_and_each_post_once(
    slack: Slack, bot: Bot, name: str
) -> None:
    release = open_release(slack, name)
    modals = [
        (user, slack.open_modal(user, name, f"sign:{role}")) for role, user in SIGNERS.items()
    ]
    settle(slack)
    start = len(slack.fake.calls())
    for method, faults in {
        "chat.update": [(429, 1), (500, 2)],
        "chat.postMessage": [(500, 2), (429, 1)],
    }.items():
        for status, count in faults:
            slack.fake.fail(method, status=status, count=count, retry_after=RETRY_AFTER)

    answers = post_together(bot, [submission(slack, user, view) for user, view in modals])
    assert [(r.status_code, r.text) for r in answers] == [(200, "")] * 4  # acks never wait
    settle(slack, timeout=45)

    calls = slack.fake.calls()[start:]
    faulted = [c for c in calls if c.faulted]
    assert Counter((c.method, c.status) for c in faulted) == {
        ("chat.update", 429): 1,
        ("chat.update", 500): 2,
        ("chat.postMessage", 500): 2,
        ("chat.postMessage", 429): 1,
    }
    # Retry-After is honoured: no call of that method during the pause.
    for failed in (c for c in faulted if c.status == 429):
        retried = after(calls, failed.method, failed)
        assert retried.at - failed.at >= RETRY_AFTER - 0.01, (failed.describe(), retried.at)
    # A 500 is retried after a pause that doubles while the method keeps failing: 1 s, 2 s.
    for method in ("chat.update", "chat.postMessage"):
        errors = [c for c in faulted if c.method == method and c.status == 500]
        gaps = [after(calls, method, failed).at - failed.at for failed in errors]
        assert gaps[0] >= 0.99 and gaps[1] >= 1.99, (method, gaps)

    # The card ends as the database says: every signature, the same readiness.
    card = slack.card(name)
    shown = text_of(card.blocks)
    assert sorted(live_signatures(bot, name)) == sorted(SIGNERS.items())
    for user in SIGNERS.values():
        assert f"<@{user}>" in shown, shown
    percent = re.search(r"(\d+)% ready", slack.command("UREL", f"status {name}"))
    assert percent is not None and f"Readiness {percent[1]}%" in shown
    assert query(
        bot, "SELECT card_version = card_sent_version FROM releases WHERE id = :id", id=release
    ) == [(True,)]
    assert card.text == [c for c in calls if c.method == "chat.update" and c.ok][-1].args["text"]

    # Every queued message reached the thread exactly once, in the order it was queued.
    queued = [
        as_sent(kind, data, text)
        for kind, data, text in query(
            bot,
            "SELECT kind, data, text FROM outbox WHERE release_id = :id AND in_thread ORDER BY id",
            id=release,
        )
    ]
    assert slack.thread(name) == queued
    signed = [t for t in queued if " signed as " in t]
    assert len(signed) == len(set(signed)) == 4
