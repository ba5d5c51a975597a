"""Deployment and post-deploy monitoring on a real SQLite file, real HTTP targets, and a clock
the test moves: cadence, breaches and their answers, digests, suspension, restarts."""

from __future__ import annotations

import asyncio
import json
import sqlite3
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import update

from bot.config import load_settings
from bot.db import Database
from bot.db.migrate import upgrade
from bot.db.tables import ReleaseRow
from bot.domain.errors import InvalidState, NotAuthorized
from bot.domain.model import ReleaseState
from bot.runtime.scheduler import Scheduler
from bot.services.checking import CheckService
from bot.services.container import Services
from bot.services.deps import Deps
from bot.services.records import PAGE, load_release, load_view, settle
from bot.services.signoff import evidence
from bot.services.tasks import TaskRunner
from bot.slack.blocks.card import post_deploy_lines
from tests.notices import as_sent
from tests.scenario.harness import ThreadedTarget

T0 = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)
CONFIG = """
product: LUMINES
roles:
  engineering_lead: {title: Engineering Lead, members: [UENG]}
  devops_lead: {title: DevOps Lead, members: [UOPS]}
  cto: {title: CTO, members: [UCTO], final: true}
sections:
  - id: infra
    title: Infrastructure
    items:
      - {id: health_db, title: Database health, check: {type: http, url: "TARGET/api/health/db"}}
      - {id: runbook, title: Runbook reviewed, blocking: false}
post_deploy:
  items:
    - {id: db_up, title: Database healthy, check: {type: http, url: "TARGET/api/health/db"}}
    - id: error_rate
      title: Error rate < 0.1%
      check:
        type: prometheus
        url: TARGET
        query: 'rate(http_requests_total[5m])'
        op: "<"
        threshold: 0.001
  phases:
    - {id: first_hour, title: Immediate (First Hour), duration: 10m, every: 2m}
    - {id: first_day, title: Extended (First 24 Hours), duration: 1h, every: 20m}
  grace: 5m
"""


class Clock:
    def __init__(self) -> None:
        self.at = T0

    def now(self) -> datetime:
        return self.at

    def move(self, **delta: float) -> None:
        self.at += timedelta(**delta)


class NoGroups:
    async def usergroup_members(self, usergroup_id: str) -> frozenset[str]:
        return frozenset()


@dataclass
class World:
    deps: Deps
    clock: Clock
    target: ThreadedTarget
    db_path: Path

    def services(self) -> Services:
        """A fresh set of services over the same database: what a restarted bot has."""
        return Services.build(self.deps)

    def messages(self, release_id: int) -> list[dict[str, Any]]:
        with sqlite3.connect(self.db_path) as db:
            db.row_factory = sqlite3.Row
            rows = db.execute(
                "SELECT text, in_thread, kind, data FROM outbox WHERE release_id = ? ORDER BY id",
                (release_id,),
            ).fetchall()
        found = []
        for row in rows:
            data = json.loads(row["data"]) if row["data"] else None
            text = as_sent(row["kind"], data, row["text"])  # as Slack gets it
            found.append({**dict(row), "data": data, "text": text})
        return found

    def digests(self, release_id: int) -> list[dict[str, Any]]:
        return [m["data"] for m in self.messages(release_id) if m["kind"] == "digest"]

    def alerts(self, release_id: int) -> list[str]:
        return [m["text"] for m in self.messages(release_id) if m["kind"] == "alert"]


@pytest.fixture
def target() -> Iterator[ThreadedTarget]:
    served = ThreadedTarget().start()
    yield served
    served.stop()


@asynccontextmanager
async def world_of(tmp_path: Path, target: ThreadedTarget, text: str) -> AsyncIterator[World]:
    """Services on a fresh database with the app.yaml TEXT (TARGET: the target's URL)."""
    config = tmp_path / "app.yaml"
    config.write_text(text.replace("TARGET", target.url))
    settings = load_settings(config, env={"DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path}/r.db"})
    db = Database(settings.env.database_url)
    await upgrade(db)
    clock = Clock()
    async with httpx.AsyncClient() as http:
        deps = Deps(settings, db, clock, NoGroups(), http, TaskRunner())
        yield World(deps, clock, target, tmp_path / "r.db")
        await deps.tasks.drain()
    await db.close()


@pytest.fixture
async def world(tmp_path: Path, target: ThreadedTarget) -> AsyncIterator[World]:
    async with world_of(tmp_path, target, CONFIG) as made:
        yield made


async def approved_release(world: World, name: str = "LUMINES 1.0.0") -> int:
    """A release every role signed, its blocking check passing: approved."""
    deps = world.deps
    app = deps.settings.app
    async with deps.db.write() as uow:
        release = await uow.releases.add(name, "CREL", "abc123", "UREL", T0, app.version)
    await CheckService(deps).run(release.id, "test", None)
    async with deps.db.write() as uow:
        release = await load_release(uow, release.id)
        view = await settle(uow, deps, await load_view(uow, app, release), T0, None)
        for role, user in (("engineering_lead", "UENG"), ("devops_lead", "UOPS"), ("cto", "UCTO")):
            await uow.signatures.add(release.id, role, user, [], None, evidence(app, view), T0)
        view = await settle(uow, deps, await load_view(uow, app, release), T0, "UCTO")
    assert view.release.state is ReleaseState.APPROVED
    return release.id


async def state(world: World, release_id: int) -> ReleaseState:
    async with world.deps.db.read() as uow:
        return (await load_release(uow, release_id)).state


async def test_deploying_needs_a_responder_and_an_approval(world: World) -> None:
    services = world.services()
    release_id = await approved_release(world)
    with pytest.raises(NotAuthorized, match="Only the DevOps Lead or the CTO can mark"):
        await services.deploy.mark_deployed(release_id, "UENG")
    world.target.state.broken.add("db")
    await CheckService(world.deps).run(release_id, "schedule", None)
    assert await state(world, release_id) is ReleaseState.SUSPENDED
    with pytest.raises(InvalidState, match="not approved for production deployment: suspended"):
        await services.deploy.mark_deployed(release_id, "UOPS")
    assert await state(world, release_id) is ReleaseState.SUSPENDED


async def test_suspension_tells_the_signers_what_changed_and_restores(world: World) -> None:
    release_id = await approved_release(world)
    world.target.state.broken.add("db")
    await CheckService(world.deps).run(release_id, "schedule", None)
    assert await state(world, release_id) is ReleaseState.SUSPENDED
    suspended = world.messages(release_id)[-1]["text"]
    assert "approval is *suspended*" in suspended and "“Database health”" in suspended
    for user in ("UENG", "UOPS", "UCTO"):
        assert f"<@{user}>: since you signed, “Database health” no longer passes." in suspended
    world.target.state.broken.clear()
    await CheckService(world.deps).run(release_id, "schedule", None)
    assert await state(world, release_id) is ReleaseState.APPROVED
    assert "the approval is restored" in world.messages(release_id)[-1]["text"]


async def test_phases_run_on_their_cadence_alert_once_and_digest_once(world: World) -> None:
    services = world.services()
    release_id = await approved_release(world)
    await services.deploy.mark_deployed(release_id, "UOPS")
    monitor = services.monitor
    await monitor.tick(wait=True)  # 10:00 the first run of the first hour
    assert await state(world, release_id) is ReleaseState.MONITORING
    world.clock.move(minutes=1)
    await monitor.tick(wait=True)  # 10:01 not due
    world.clock.move(minutes=1)
    world.target.state.broken.add("db")
    await monitor.tick(wait=True)  # 10:02 breach: one alert
    world.clock.move(minutes=2)
    await monitor.tick(wait=True)  # 10:04 still failing: no second alert
    (alert,) = world.alerts(release_id)
    view = await services.releases.view(release_id)
    assert view.monitoring is not None and view.monitoring.breaching == ("Database healthy",)
    lines = post_deploy_lines(view)
    assert lines[0].startswith(":eyes: Immediate (First Hour): until <!date^")
    assert lines[-1] == ":rotating_light: *Breaching now:* Database healthy"
    assert alert.startswith(":rotating_light: <@UOPS> <@UCTO> *Database healthy* is failing")
    assert "GET /api/health/db answered 503 Service Unavailable" in alert

    breach = next(m["data"]["message"] for m in world.messages(release_id) if m["kind"] == "alert")
    with pytest.raises(NotAuthorized):
        await monitor.answer_breach(release_id, breach, "UENG", rollback=False)
    await monitor.answer_breach(release_id, breach, "UOPS", rollback=False)
    with pytest.raises(InvalidState, match="already acknowledged"):
        await monitor.answer_breach(release_id, breach, "UCTO", rollback=False)
    async with world.deps.db.write() as uow:
        await uow.session.execute(
            update(ReleaseRow).values(rollback_plan="helm rollback lumines 41 (runbook §7)")
        )
    await monitor.answer_breach(release_id, breach, "UCTO", rollback=True)
    rollback = world.messages(release_id)[-1]["text"]
    assert rollback.startswith(":leftwards_arrow_with_hook: <@UCTO> decided to *roll back*")
    assert rollback.endswith("Rollback plan: helm rollback lumines 41 (runbook §7)")
    with pytest.raises(InvalidState, match="already decided to roll back"):
        await monitor.answer_breach(release_id, breach, "UOPS", rollback=True)

    world.target.state.broken.clear()
    world.clock.move(minutes=2)
    await monitor.tick(wait=True)  # 10:06 recovered
    assert any("*Database healthy* recovered" in m["text"] for m in world.messages(release_id))
    world.clock.move(minutes=2)
    await monitor.tick(wait=True)  # 10:08
    assert world.digests(release_id) == []
    world.clock.move(minutes=2)
    await monitor.tick(wait=True)  # 10:10 the first hour ends: its digest; the next phase runs
    world.clock.move(seconds=30)
    await monitor.tick(wait=True)
    (first,) = world.digests(release_id)
    assert first["title"] == "Immediate (First Hour)" and not first["late"]
    assert first["next"] == "Extended (First 24 Hours)"
    items = {i["id"]: i for i in first["items"]}
    assert (items["db_up"]["runs"], items["db_up"]["passed"]) == (5, 3)
    assert (items["error_rate"]["runs"], items["error_rate"]["passed"]) == (5, 5)
    assert items["error_rate"]["worst"] == "highest 0"
    (breach,) = first["breaches"]
    assert breach["acknowledged_by"] == "UOPS" and breach["rolled_back_by"] == "UCTO"
    assert breach["recovered_at"] is not None
    digest_message = next(m for m in world.messages(release_id) if m["kind"] == "digest")
    assert digest_message["in_thread"] == 0  # to the channel, not the thread


async def test_a_restart_mid_phase_loses_and_doubles_nothing(world: World) -> None:
    release_id = await approved_release(world)
    await world.services().deploy.mark_deployed(release_id, "UOPS")
    await world.services().monitor.tick(wait=True)  # 10:00 run 1
    world.clock.move(minutes=3)
    await world.services().monitor.tick(wait=True)  # 10:03 run 2, by a "restarted" bot
    await world.services().monitor.tick(wait=True)  # same minute, another restart: not due
    with sqlite3.connect(world.db_path) as db:
        runs = db.execute("SELECT count(*) FROM check_runs WHERE phase = 'first_hour'").fetchone()
    assert runs == (2,)
    world.clock.move(minutes=8)  # 10:11, the bot was down when the first hour ended
    await world.services().monitor.tick(wait=True)
    await world.services().monitor.tick(wait=True)
    (digest,) = world.digests(release_id)
    assert digest["title"] == "Immediate (First Hour)" and not digest["late"]  # within grace


async def test_digests_that_fell_due_while_down_are_posted_once_in_order(world: World) -> None:
    release_id = await approved_release(world)
    await world.services().deploy.mark_deployed(release_id, "UOPS")
    await world.services().monitor.tick(wait=True)
    world.clock.move(hours=3)  # down through both phases' ends
    first, second = world.services(), world.services()  # two processes racing after restart
    await first.monitor.tick(wait=True)
    await second.monitor.tick(wait=True)
    digests = world.digests(release_id)
    assert [d["title"] for d in digests] == ["Immediate (First Hour)", "Extended (First 24 Hours)"]
    assert [d["late"] for d in digests] == [True, True]  # both ended over 5m ago
    assert digests[1]["next"] is None
    assert await state(world, release_id) is ReleaseState.DONE
    assert "monitoring of *LUMINES 1.0.0* is complete" in world.messages(release_id)[-1]["text"]


async def test_the_scheduler_registers_coalescing_jobs_and_rechecks(world: World) -> None:
    services = world.services()
    release_id = await approved_release(world)
    scheduler = Scheduler(services)
    scheduler.start()
    try:
        jobs = {job.id: job for job in scheduler.scheduler.get_jobs()}
        assert set(jobs) >= {"tick"}
        assert all(job.coalesce and job.max_instances == 1 for job in jobs.values())
        assert await scheduler.recheck() == 1
        await world.deps.tasks.drain()
        with sqlite3.connect(world.db_path) as db:
            triggers = db.execute(
                "SELECT trigger FROM check_runs WHERE release_id = ?", (release_id,)
            ).fetchall()
        assert ("schedule",) in triggers
    finally:
        await scheduler.stop()


async def test_stopping_the_scheduler_cancels_and_waits_for_the_tick_running(
    world: World,
) -> None:
    """The database closes after the scheduler stops: no job may still be using it."""
    scheduler = Scheduler(world.services())
    entered = asyncio.Event()

    async def stuck() -> int:
        entered.set()
        await asyncio.Event().wait()  # a tick held up (a slow database, a long run)
        return 0

    scheduler.services.jobs.resume = stuck  # type: ignore[method-assign]
    tick = asyncio.create_task(scheduler.tick())
    await entered.wait()
    await scheduler.stop()
    assert tick.cancelled()


async def test_the_scheduled_recheck_covers_every_release_before_deployment(world: World) -> None:
    """More releases than a page holds (and than the 20 the recheck once saw): each release
    still in play has its checks run again; a cancelled or deployed one does not."""
    deps, app = world.deps, world.deps.settings.app
    count = 2 * PAGE + 20
    async with deps.db.write() as uow:
        ids = [
            (await uow.releases.add(f"R {n}", "CREL", None, "UREL", T0, app.version)).id
            for n in range(count)
        ]
        await uow.releases.set_state(ids[0], ReleaseState.CANCELLED, T0)
        await uow.releases.set_state(ids[1], ReleaseState.DONE, T0)
        await uow.releases.set_state(ids[2], ReleaseState.APPROVED, T0)
    assert await Scheduler(world.services()).recheck() == count - 2
    with sqlite3.connect(world.db_path) as db:
        rechecked = {
            release
            for (release,) in db.execute(
                "SELECT release_id FROM check_runs WHERE trigger = 'schedule'"
            )
        }
    assert rechecked == set(ids[2:])


async def test_a_command_without_a_name_finds_a_release_after_its_deployment(world: World) -> None:
    """`/readiness status` (or `export`) with no NAME once the release is deployed: the
    one being watched, not "No release is open"."""
    services = world.services()
    release_id = await approved_release(world)
    await services.deploy.mark_deployed(release_id, "UOPS")
    found = await services.releases.resolve(None, "CREL")
    assert found.id == release_id and found.state is ReleaseState.DEPLOYED
