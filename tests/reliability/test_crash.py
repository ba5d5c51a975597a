"""kill -9 right after 40 sign-offs were acknowledged: after a restart all 40 are there,
`/readiness status` shows them, and each thread message is posted once, none lost.

Eight releases, five sign-offs each (the Engineering Lead needs two signers here).
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from bot.fake_slack import FakeSlackThread
from tests.reliability.helpers import (
    live_signatures,
    post_together,
    query,
    settle,
    start_bot,
    submission,
)
from tests.scenario.conftest import Slack
from tests.scenario.harness import CHANNEL, Bot, ThreadedTarget

RELEASES = [f"CRASH {n}" for n in range(1, 9)]
SIGNERS = [
    ("engineering_lead", "UENG"),
    ("engineering_lead", "UENG2"),
    ("devops_lead", "UOPS"),
    ("security_lead", "USEC"),
    ("product_owner", "UPRD"),
]


@pytest.fixture(scope="module")
def bots(
    fake: FakeSlackThread, target: ThreadedTarget, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[list[Bot]]:
    """The bot, and whatever restarts of it a test appends: all stopped at the end."""
    running = [
        start_bot(
            fake, target, tmp_path_factory.mktemp("bot"), extra="engineering_lead.min_signers: 2"
        )
    ]
    yield running
    for bot in running:
        bot.stop()


@pytest.fixture(scope="module")
def bot(bots: list[Bot]) -> Bot:
    return bots[0]


def restart(killed: Bot, fake: FakeSlackThread, target: ThreadedTarget) -> Bot:
    """The same database, port and environment, in a new process."""
    again = Bot(fake, target, killed.db_path.parent)
    again.port, again.url, again.env = killed.port, killed.url, killed.env
    return again.start()


def test_40_acknowledged_sign_offs_survive_kill_9(
    slack: Slack, bots: list[Bot], fake: FakeSlackThread, target: ThreadedTarget
) -> None:
    bot = bots[0]
    answered = len(fake.responses())
    for name in RELEASES:
        assert slack.driver.command("UREL", f"new {name}", channel=CHANNEL).status_code == 200
    fake.wait_for(lambda f: len(f.responses()) >= answered + len(RELEASES) or None)
    for name in RELEASES:
        slack.checks_done(name)
    bodies = [
        submission(slack, user, slack.open_modal(user, name, f"sign:{role}"))
        for name in RELEASES
        for role, user in SIGNERS
    ]
    assert len(bodies) == 40
    before = query(bot, "SELECT count(*) FROM signatures")[0][0]

    answers = post_together(bot, bodies)
    bot.kill()  # the moment the last modal closed: no flush, no cleanup

    assert [(r.status_code, r.text) for r in answers] == [(200, "")] * 40  # all acknowledged
    restarted = restart(bot, fake, target)
    bots.append(restarted)
    slack.rebind(restarted)

    assert query(restarted, "SELECT count(*) FROM signatures")[0][0] == before + 40
    for name in RELEASES:
        assert sorted(live_signatures(restarted, name)) == sorted(SIGNERS), name
        status = slack.command("UNOBODY", f"status {name}")
        for _, user in SIGNERS:
            assert f"<@{user}>" in status, (name, user, status)
        assert "pending" not in status.split("CTO/Engineering Manager")[0], status
        assert ":white_check_mark: All required approvals received" in status

    # What was queued for Slack when the process died is sent after the restart, once.
    settle(slack)
    for name in RELEASES:
        signed = [t for t in slack.thread(name) if " signed as " in t]
        assert sorted(signed) == sorted(set(signed)) and len(signed) == 5, (name, signed)
    cards = [m for m in fake.messages(CHANNEL) if m.text.startswith("CRASH ")]
    assert len(cards) == len(RELEASES)  # one card each: none posted again after the crash
