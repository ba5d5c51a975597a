"""Three `readiness serve` replicas on one PostgreSQL database, a release marked deployed,
phases of seconds, and the replica that sends the channel's posts killed (-9) the moment
Slack has taken the first phase's digest, before it can record it as sent. Each phase's
digest is posted once (the one in flight found in Slack, not sent again; the two phases that
end while that replica is dead posted by the others once its channel lease runs out), each
run slot is claimed and run by one replica, none missed, every run finished with each of its
items once (one the killed replica was in the middle of is finished by another once its
lease runs out), and the audit chain verifies."""

from __future__ import annotations

import asyncio
import os
import signal
import threading
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

from bot.db import Database
from bot.fake_slack import FakeSlack, FakeSlackThread
from bot.slack import ids
from tests.databases import Databases
from tests.scenario.conftest import Slack, approve_all_but_final
from tests.scenario.harness import CHANNEL, USERS, Bot, ThreadedTarget, edited_app, replicas_running

pytestmark = pytest.mark.postgresql

NAME = "LUMINES 7.0.0"
PHASES = [
    {"id": "first_hour", "title": "Immediate (First Hour)", "duration": "3s", "every": "1s"},
    {"id": "first_day", "title": "Extended (First 24 Hours)", "duration": "3s", "every": "1s"},
    {"id": "first_week", "title": "Ongoing (First Week)", "duration": "3s", "every": "1s"},
]
TITLES = [str(p["title"]) for p in PHASES]
SLOTS = {f"run:{p['id']}:{slot}" for p in PHASES for slot in range(3)}  # 3s every 1s


def rows(url: str, query: str, **params: Any) -> list[Any]:
    async def fetch() -> list[Any]:
        db = Database(url)
        try:
            async with db.read() as uow:
                return list((await uow.session.execute(text(query), params)).all())
        finally:
            await db.close()

    return asyncio.run(fetch())


class Killer:
    """Watches the fake's calls (on its loop, before a call is answered): when the digest
    of the first phase is posted, SIGKILLs the process armed, so the post is in Slack and
    its reply never read."""

    def __init__(self) -> None:
        self.pid: int | None = None
        self.killed = threading.Event()
        self.at = 0.0

    def __call__(self, fake: FakeSlack) -> None:
        if self.pid is None or self.killed.is_set():
            return
        calls = fake.calls()
        last = calls[-1] if calls else None
        if last is None or last.method != "chat.postMessage" or not last.ok:
            return
        said = str(last.args.get("text", ""))
        if said.startswith(f"{TITLES[0]} digest") and f"— {NAME}:" in said:
            os.kill(self.pid, signal.SIGKILL)
            self.at = last.at
            self.killed.set()


@pytest.fixture(scope="module")
def killer() -> Killer:
    return Killer()


@pytest.fixture(scope="module")
def fake(killer: Killer) -> Iterator[FakeSlackThread]:
    with FakeSlackThread() as thread:
        thread.add_channel(CHANNEL, "releases")
        for user_id, name in USERS.items():
            thread.add_user(user_id, name)
        thread.add_usergroup("SPRODUCT", ["UGROUP"], handle="product")
        thread.on_loop(lambda f: f.on_change(lambda: killer(f)))
        yield thread


def config(tmp: Path) -> Path:
    def edit(app: dict[str, Any]) -> None:
        app["post_deploy"]["phases"] = PHASES
        app["schedules"]["tick"] = "200ms"
        app["checks"]["lease"] = "2s"  # the killed replica's run is taken over within phase 2

    return edited_app(tmp, edit)


@pytest.fixture(scope="module")
def replicas(
    fake: FakeSlackThread,
    target: ThreadedTarget,
    module_databases: Databases,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[list[Bot]]:
    app = str(config(tmp_path_factory.mktemp("replicas-monitoring")))
    url = module_databases.new_postgresql()
    with replicas_running(
        fake, target, url, tmp_path_factory.mktemp, 3, READINESS_CONFIG=app
    ) as bots:
        yield bots


def wait_until(what: str, probe: Any, timeout: float, replicas: list[Bot]) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if found := probe():
            return found
        time.sleep(0.2)
    logs = "\n".join(f"--- {b.log_path} ---\n{b.log()[-3000:]}" for b in replicas)
    raise AssertionError(f"never: {what}\n{logs}")


def digests(fake: FakeSlackThread) -> list[str]:
    """The release's digests at the channel's top level, in order (their phase titles)."""
    return [
        m.text.split(" digest", 1)[0]
        for m in fake.messages(CHANNEL)
        if " digest" in m.text and f"— {NAME}:" in m.text
    ]


def test_each_phase_digests_once_with_the_sending_replica_killed_mid_post(
    fake: FakeSlackThread, replicas: list[Bot], killer: Killer
) -> None:
    url = replicas[0].env["DATABASE_URL"]
    people = [Slack(fake, bot) for bot in replicas]
    try:
        first = people[0]
        first.command("UREL", f"new {NAME} ref=abc123")
        first.checks_done(NAME)
        approve_all_but_final(first, NAME)
        assert people[1].sign("UCTO", NAME, "cto").status_code == 200
        first.wait_card(NAME, "Approved for production deployment")

        # The replica that holds the channel's lease sends its posts: it marks the release
        # deployed, and dies the moment Slack takes the first digest.
        ((holder,),) = rows(url, "SELECT holder FROM channel_leases WHERE channel = :c", c=CHANNEL)
        pids = {bot.process.pid: n for n, bot in enumerate(replicas) if bot.process}
        victim = replicas[pids[int(holder.rsplit(":", 1)[1])]]
        killer.pid = victim.process.pid if victim.process else None
        people[replicas.index(victim)].click("UOPS", NAME, ids.DEPLOYED)
        assert killer.killed.wait(20), "the first digest was never posted"
        assert victim.process is not None
        victim.process.wait(10)
        survivors = [b for b in replicas if b is not victim]

        # In Slack, yet not recorded as sent: the one window where a digest could double.
        (pending,) = rows(
            url,
            "SELECT o.attempts, o.sent_at FROM outbox o JOIN releases r ON r.id = o.release_id "
            "WHERE r.name = :name AND o.kind = 'digest'",
            name=NAME,
        )
        assert pending.attempts == 1 and pending.sent_at is None, pending

        # Phases 2 and 3 end while it is dead; once its lease runs out another replica
        # sends, and nothing is left to send.
        def drained() -> bool:
            unsent = rows(
                url,
                "SELECT count(*) FROM outbox o JOIN releases r ON r.id = o.release_id "
                "WHERE r.name = :name AND o.sent_at IS NULL",
                name=NAME,
            )[0][0]
            state = rows(url, "SELECT state FROM releases WHERE name = :name", name=NAME)[0][0]
            return unsent == 0 and state == "done" and len(digests(fake)) >= 3

        wait_until("every digest sent and the release done", drained, 60, survivors)
        assert digests(fake) == TITLES  # none missing, none doubled, in order
        posted = [
            c
            for c in fake.calls("chat.postMessage")
            if " digest" in str(c.args.get("text")) and f"— {NAME}:" in str(c.args.get("text"))
        ]
        assert len(posted) == 3  # the one in flight was found in Slack, not sent again
        assert any(
            c.at > killer.at and c.args.get("include_all_metadata")
            for c in fake.calls("conversations.history")
        )
        card = first.card(NAME)
        thread = [m.text for m in fake.thread(CHANNEL, card.ts)]
        assert not [t for t in thread if " digest" in t]  # digests go to the channel
        assert sum(f"monitoring of *{NAME}* is complete" in t for t in thread) == 1
        people[replicas.index(survivors[0])].wait_card(
            NAME, "Done", *(f"{title}: digest posted" for title in TITLES)
        )

        by_kind = dict(
            rows(
                url,
                "SELECT a.kind, count(*) FROM audit_events a JOIN releases r "
                "ON r.id = a.release_id WHERE r.name = :name GROUP BY a.kind",
                name=NAME,
            )
        )
        assert by_kind.get("digest.posted") == 3
        assert by_kind.get("release.deployed") == 1

        # Each run slot ran once: claimed by one replica (its mark, in the transaction
        # that starts its run), none missed, none run twice; each run finished with every
        # item once: one the killed replica was in the middle of is taken over by another
        # once its lease runs out, and the items it had no result for run there.
        def runs_over() -> bool:
            return not rows(
                url,
                "SELECT c.id FROM check_runs c JOIN releases r ON r.id = c.release_id "
                "WHERE r.name = :name AND c.finished_at IS NULL",
                name=NAME,
            )

        wait_until("every run finished", runs_over, 20, survivors)
        slots = rows(
            url,
            "SELECT m.key FROM schedule_marks m JOIN releases r ON r.id = m.release_id "
            "WHERE r.name = :name AND m.key LIKE 'run:%'",
            name=NAME,
        )
        runs = rows(
            url,
            "SELECT c.phase, c.total, c.started_at, c.finished_at, (SELECT count(*) FROM "
            "check_results x WHERE x.run_id = c.id) AS results FROM check_runs c JOIN releases "
            "r ON r.id = c.release_id WHERE r.name = :name AND c.trigger = 'monitor'",
            name=NAME,
        )
        assert sorted(key for (key,) in slots) == sorted(SLOTS)
        assert Counter(r.phase for r in runs) == {p["id"]: 3 for p in PHASES}, runs
        assert all(r.finished_at is not None and r.results == r.total for r in runs), runs
        doubled = rows(
            url,
            "SELECT x.run_id, x.item_id FROM check_results x JOIN releases r ON r.id = "
            "x.release_id WHERE r.name = :name AND x.run_id IS NOT NULL "
            "GROUP BY x.run_id, x.item_id HAVING count(*) > 1",
            name=NAME,
        )
        assert doubled == [], doubled

        verified = survivors[0].cli("audit", "verify")
        assert verified.returncode == 0, verified.stdout + verified.stderr
    finally:
        for person in people:
            person.driver.close()
