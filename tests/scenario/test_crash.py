"""kill -9 after sign-offs were acknowledged: every one of them is still there after restart."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.fake_slack import FakeSlackThread
from tests.databases import Databases
from tests.scenario.conftest import Slack
from tests.scenario.harness import Bot, ThreadedTarget


@pytest.fixture
def own_bot(
    fake: FakeSlackThread, target: ThreadedTarget, databases: Databases, tmp_path: Path
) -> Iterator[Bot]:
    running = Bot(fake, target, tmp_path, databases.url(tmp_path)).start()
    yield running
    running.stop()


def test_signatures_survive_kill_9(fake: FakeSlackThread, own_bot: Bot) -> None:
    slack = Slack(fake, own_bot)
    name = "LUMINES 9.9.9"
    assert "Opened" in slack.command("UREL", f"new {name}")
    slack.checks_done(name)
    for role, user in (
        ("engineering_lead", "UENG"),
        ("devops_lead", "UOPS"),
        ("security_lead", "USEC"),
    ):
        response = slack.sign(user, name, role, comment=f"{role} ok")
        assert response.status_code == 200 and not response.text  # acknowledged: modal closes
    own_bot.kill()  # no chance to flush or clean up

    restarted = own_bot.restarted().start()  # the same database, port and environment
    try:
        slack.rebind(restarted)
        status = slack.command("UREL", f"status {name}")
        for user in ("UENG", "UOPS", "USEC"):
            assert f"<@{user}>" in status
        assert "*Product Owner*: :white_circle: pending" in status
    finally:
        slack.driver.close()
        restarted.stop()
