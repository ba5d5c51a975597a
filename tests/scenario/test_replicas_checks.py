"""Two `readiness serve` replicas on one PostgreSQL database, and the one running a release's
checks killed (-9) mid-run: its quick checks recorded, a slow one still running. Once its
lease runs out the other replica takes the run over, runs the one check it had no result
for (once), finishes the run, and the card stops saying "Running checks"."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from bot.fake_slack import FakeSlackThread
from tests.databases import Databases
from tests.scenario.conftest import Slack
from tests.scenario.harness import Bot, ThreadedTarget, edited_app, replicas_running

pytestmark = pytest.mark.postgresql

NAME = "LUMINES 8.0.0"
SLOW = {
    "id": "slow_probe",
    "title": "Slow probe",
    "check": {"type": "command", "run": "sleep 3", "timeout": "20s"},
}


def config(tmp: Path) -> Path:
    def edit(app: dict[str, Any]) -> None:
        app["sections"][0]["items"].append(SLOW)
        app["checks"]["lease"] = "2s"
        app["schedules"]["tick"] = "200ms"

    return edited_app(tmp, edit)


@pytest.fixture(scope="module")
def replicas(
    fake: FakeSlackThread,
    target: ThreadedTarget,
    module_databases: Databases,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[list[Bot]]:
    app = str(config(tmp_path_factory.mktemp("replicas-checks")))
    url = module_databases.new_postgresql()
    with replicas_running(
        fake, target, url, tmp_path_factory.mktemp, 2, READINESS_CONFIG=app
    ) as bots:
        yield bots


def the_run(bot: Bot) -> Any:
    (run,) = bot.sql(
        "SELECT c.id, c.holder, c.done, c.total, c.finished_at FROM check_runs c JOIN releases "
        "r ON r.id = c.release_id WHERE r.name = :name",
        name=NAME,
    )
    return run


def wait_for(what: str, probe: Any, timeout: float, bots: list[Bot]) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if found := probe():
            return found
        time.sleep(0.05)
    logs = "\n".join(f"--- {b.log_path} ---\n{b.log()[-3000:]}" for b in bots)
    raise AssertionError(f"never: {what}\n{logs}")


def test_a_run_cut_short_by_a_kill_is_finished_by_the_other_replica(
    fake: FakeSlackThread, replicas: list[Bot]
) -> None:
    first, second = replicas
    people = [Slack(fake, bot) for bot in replicas]
    try:
        people[0].command("UREL", f"new {NAME} ref=abc123")  # `first` runs its checks
        cut = wait_for(
            "every check but the slow one recorded",
            lambda: (run := the_run(first)).done == run.total - 1 and run,
            20,
            replicas,
        )
        assert cut.finished_at is None and first.process is not None
        assert cut.holder.endswith(f":{first.process.pid}")
        first.kill()

        finished = wait_for(
            "the run finished", lambda: (run := the_run(second)).finished_at and run, 20, replicas
        )
        assert second.process is not None
        assert finished.holder.endswith(f":{second.process.pid}")  # taken over
        assert finished.done == finished.total
        counts = second.sql(
            "SELECT item_id, count(*) FROM check_results WHERE run_id = :run GROUP BY item_id",
            run=cut.id,
        )
        assert len(counts) == cut.total and {n for _, n in counts} == {1}  # each item once
        assert "taken over" in second.log()
        people[1].wait_card(NAME, "Readiness", timeout=40)  # without "Running checks"
    finally:
        for person in people:
            person.driver.close()


def test_a_run_cut_short_by_a_graceful_stop_is_handed_over_at_once(
    fake: FakeSlackThread,
    target: ThreadedTarget,
    module_databases: Databases,
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    """SIGTERM (a rolling update) while a check outlasts the drain: the stopping replica
    hands the run over rather than finishing it short, and the other replica carries it on
    at once, well before the 30 s lease would have run out."""
    tmp = tmp_path_factory.mktemp("handover")
    marker = tmp / "slow-once"
    slow_once = {
        "id": "slow_once",
        "title": "Slow the first time",
        "check": {
            "type": "command",
            "run": f"if [ -e {marker} ]; then echo quick; else touch {marker}; sleep 60; fi",
            "timeout": "90s",
        },
    }

    def edit(app: dict[str, Any]) -> None:
        app["sections"][0]["items"].append(slow_once)
        app["checks"]["lease"] = "30s"
        app["schedules"]["tick"] = "200ms"

    app = str(edited_app(tmp, edit))
    url = module_databases.new_postgresql()
    with replicas_running(
        fake, target, url, tmp_path_factory.mktemp, 2, READINESS_CONFIG=app
    ) as bots:
        first, second = bots
        people = [Slack(fake, bot) for bot in bots]
        try:
            people[0].command("UREL", f"new {NAME} ref=abc123")
            cut = wait_for(
                "every check but the slow one recorded",
                lambda: (run := the_run(first)).done == run.total - 1 and run,
                20,
                bots,
            )
            assert first.process is not None and cut.holder.endswith(f":{first.process.pid}")
            first.stop()  # its drain waits 10 s for the run, then hands it over
            assert first.process.returncode == 0, first.log()[-3000:]
            assert f"check run {cut.id} cut short by this replica's stop: handed over" in (
                first.log()
            )
            stopped = time.monotonic()
            finished = wait_for(
                "the run finished", lambda: (run := the_run(second)).finished_at and run, 15, bots
            )
            assert time.monotonic() - stopped < 15  # the lease (30 s) had not run out
            assert second.process is not None
            assert finished.holder.endswith(f":{second.process.pid}")
            assert finished.done == finished.total
            (quick,) = second.sql(
                "SELECT reason FROM check_results WHERE run_id = :run AND item_id = 'slow_once'",
                run=cut.id,
            )
            assert "quick" in quick.reason
            people[1].wait_card(NAME, "Readiness", timeout=40)  # without "Running checks"
        finally:
            for person in people:
                person.driver.close()
