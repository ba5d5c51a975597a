"""kill -9 right after 40 sign-offs were acknowledged: after a restart all 40 are there,
`/readiness status` shows them, and each thread message is posted once, none lost.

Eight releases, five sign-offs each (the Engineering Lead needs two signers here; every
checklist item is manual, so the releases open without checks to run first).
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from bot.db.engine import dialect_of
from bot.fake_slack import FakeSlackThread
from bot.services.outbox import CHANNEL_LEASE
from tests.reliability.helpers import (
    SIGN_OFFS,
    TWO_ENGINEERING_LEADS,
    live_signatures,
    open_releases,
    post_together,
    query,
    settle,
    sign_off_bodies,
)
from tests.scenario.conftest import Slack
from tests.scenario.harness import CHANNEL, Bot

CHECKS = False
ROLES = TWO_ENGINEERING_LEADS
RELEASES = [f"CRASH {n}" for n in range(1, 9)]


@pytest.fixture
def restarts() -> Iterator[list[Bot]]:
    """The bots a test starts again: stopped at the end."""
    started: list[Bot] = []
    yield started
    for bot in started:
        bot.stop()


def test_40_acknowledged_sign_offs_survive_kill_9(
    slack: Slack, bot: Bot, restarts: list[Bot], fake: FakeSlackThread
) -> None:
    open_releases(slack, RELEASES)
    _, bodies = sign_off_bodies(slack, RELEASES)
    assert len(bodies) == 40
    before = query(bot, "SELECT count(*) FROM signatures")[0][0]

    answers = post_together(bot, bodies)
    bot.kill()  # the moment the last modal closed: no flush, no cleanup

    assert [(r.status_code, r.text) for r in answers] == [(200, "")] * 40  # all acknowledged
    restarted = bot.restarted().start()  # the same database, port and environment
    restarts.append(restarted)
    slack.rebind(restarted)

    assert query(restarted, "SELECT count(*) FROM signatures")[0][0] == before + 40
    for name in RELEASES:
        assert sorted(live_signatures(restarted, name)) == sorted(SIGN_OFFS), name
        status = slack.command("UNOBODY", f"status {name}")
        for _, user in SIGN_OFFS:
            assert f"<@{user}>" in status, (name, user, status)
        assert "pending" not in status.split("CTO/Engineering Manager")[0], status
        assert ":white_check_mark: All required approvals received" in status

    # What was queued for Slack when the process died is sent after the restart, once. On
    # PostgreSQL the dead process's channels are still its until their lease runs out; the
    # new one's sender, looking every 10 s unwoken, takes them then (a replica's restart).
    settle(slack, 20 + (CHANNEL_LEASE + 10 if dialect_of(bot.database) == "postgresql" else 0))
    for name in RELEASES:
        signed = [t for t in slack.thread(name) if " signed as " in t]
        assert sorted(signed) == sorted(set(signed)) and len(signed) == 5, (name, signed)
    cards = [m for m in fake.messages(CHANNEL) if m.text.startswith("CRASH ")]
    assert len(cards) == len(RELEASES)  # one card each: none posted again after the crash
