"""A check run is held by the replica running it, under a lease of the database's clock:
a replica that dies mid-run leaves a lease that runs out, and another replica's tick
finishes the run, running once each item it has no result for yet. A replica that starts
closes its own leftovers, never a live replica's run; on SQLite (one replica) every
unfinished run at start is its own, closed as before.

Two Services on one database stand for two replicas (`--database postgresql`: a real one)."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import AsyncIterator
from dataclasses import replace
from typing import Any

import pytest
from sqlalchemy import select, update

from bot.db import Database
from bot.db.tables import AuditRow, CheckResultRow, CheckRunRow, ReleaseRow
from bot.domain.model import ReleaseState
from bot.runtime.scheduler import Scheduler
from bot.services import leases
from bot.services.checking import check_jobs
from bot.services.container import Services
from bot.services.deps import Deps
from bot.services.tasks import TaskRunner
from tests.services.conftest import T0

DIED = 0.3  # seconds: the lease the replica that dies held its run under


@pytest.fixture
async def replicas(deps: Deps) -> AsyncIterator[tuple[Services, Services]]:
    other = Database(deps.settings.env.database_url)
    second = replace(deps, db=other, replica="second", products={}, tasks=TaskRunner())
    yield Services.build(replace(deps, replica="first")), Services.build(second)
    await second.tasks.drain()
    await other.close()


async def opened(services: Services) -> int:
    made = await services.releases.open("LUMINES 1.0.0", None, "UREL", "CRELEASE")
    await services.deps.tasks.drain()  # its first run, finished
    return made.release.id


async def run_left(
    services: Services,
    release_id: int,
    recorded: int,
    lease: float = DIED,
    phase: str | None = None,
    holder: str | None = None,
) -> int:
    """A run of the checklist (or of PHASE's items) as a replica leaves it when it dies
    having recorded RECORDED results: held by HOLDER (the replica's own name) for LEASE
    seconds, never renewed again."""
    deps = services.deps
    items = post_deploy_items(deps) if phase else [job.key for job in check_jobs(deps.settings.app)]
    trigger = "monitor" if phase else "command"
    async with deps.db.write() as uow:
        run_id = await uow.checks.start_run(release_id, trigger, "UENG", len(items), T0, phase)
        await uow.coordination.own_run(run_id, holder or deps.replica, lease, None)
        for item in items[:recorded]:
            await uow.checks.add_result(release_id, run_id, item, "pass", "before", {}, 1.0, T0)
    return run_id


def post_deploy_items(deps: Deps) -> list[str]:
    return [item.id for item in deps.settings.app.post_deploy.items if item.check]


async def card_version(deps: Deps, release_id: int) -> int:
    async with deps.db.read() as uow:
        row = await uow.session.get(ReleaseRow, release_id)
        assert row is not None
        return row.card_version


async def run_of(deps: Deps, run_id: int) -> tuple[CheckRunRow, list[tuple[str, str]]]:
    """The run's row, and its results (item, reason) in the order recorded."""
    async with deps.db.read() as uow:
        row = await uow.session.get(CheckRunRow, run_id)
        found = await uow.session.execute(
            select(CheckResultRow.item_id, CheckResultRow.reason)
            .where(CheckResultRow.run_id == run_id)
            .order_by(CheckResultRow.id)
        )
        assert row is not None
        return row, [(r.item_id, r.reason) for r in found.all()]


async def audited(deps: Deps, kind: str) -> list[dict[str, Any]]:
    async with deps.db.read() as uow:
        found = await uow.session.scalars(select(AuditRow.data).where(AuditRow.kind == kind))
        return list(found.all())


async def test_a_run_whose_replica_died_is_finished_by_another_once(
    replicas: tuple[Services, Services],
) -> None:
    one, two = replicas
    release_id = await opened(one)
    run_id = await run_left(one, release_id, recorded=5)
    assert await two.checks.resume() == 0  # its lease still holds: it may be alive
    row, _ = await run_of(one.deps, run_id)
    assert row.finished_at is None and row.holder == "first"

    await asyncio.sleep(DIED + 0.2)  # the lease runs out on the database's clock
    await Scheduler(two).tick()  # the tick takes it over …
    await two.deps.tasks.drain()  # … and finishes it in the background
    assert await two.checks.resume() == 0  # once: done

    row, found = await run_of(one.deps, run_id)
    items = [job.key for job in check_jobs(one.deps.settings.app)]
    assert row.finished_at is not None and row.holder == "second"
    assert (row.done, row.total) == (len(items), len(items))
    assert sorted(item for item, _ in found) == sorted(items)  # each item once
    assert found[:5] == [(item, "before") for item in items[:5]]  # those recorded kept
    (ran,) = [e for e in await audited(one.deps, "checks.run") if e.get("run_id") == run_id]
    assert ran["taken_over"] is True
    assert sum(ran.get(status, 0) for status in ("pass", "fail", "error")) == len(items)
    async with one.deps.db.write() as uow:  # the replica that "died" lost it for good
        assert not await uow.coordination.renew_run(run_id, "first", 30.0)
    async with one.deps.db.read() as uow:
        progress = await uow.checks.latest_run(release_id)
    assert progress is not None and progress.finished  # the card drops "Running checks"


async def test_a_replica_that_lost_its_run_records_nothing_more_of_it(
    replicas: tuple[Services, Services],
) -> None:
    one, two = replicas
    release_id = await opened(one)
    run_id = await run_left(one, release_id, recorded=2)
    await asyncio.sleep(DIED + 0.2)  # `first` stalled past its lease …
    assert await two.checks.resume() == 1  # … and `second` took the run over
    await two.deps.tasks.drain()
    _, finished = await run_of(one.deps, run_id)
    events = len(await audited(one.deps, "checks.run"))

    # `first` wakes and goes on with the run's checks (the loop every run goes through):
    # each result it would record, and the run's end, are refused it.
    jobs = check_jobs(one.deps.settings.app)
    await one.checks._run(release_id, run_id, jobs, "UENG")
    _, after = await run_of(one.deps, run_id)
    assert after == finished
    assert len(await audited(one.deps, "checks.run")) == events


async def test_a_post_deploy_run_cut_short_is_finished_in_its_phase(
    replicas: tuple[Services, Services],
) -> None:
    one, two = replicas
    release_id = await opened(one)
    async with one.deps.db.write() as uow:
        await uow.session.execute(
            update(ReleaseRow)
            .where(ReleaseRow.id == release_id)
            .values(state=ReleaseState.MONITORING.value, deployed_at=T0)
        )
        assert await uow.marks.mark(release_id, "run:first_hour:0", T0, T0)
    run_id = await run_left(one, release_id, recorded=1, phase="first_hour")
    await asyncio.sleep(DIED + 0.2)

    await two.monitor.tick(wait=True)
    row, found = await run_of(one.deps, run_id)
    items = post_deploy_items(one.deps)
    assert row.finished_at is not None and row.holder == "second"
    assert Counter(item for item, _ in found) == Counter(items)  # the rest ran, once
    async with one.deps.db.read() as uow:  # the slot was not run again beside it
        runs = await uow.session.scalars(
            select(CheckRunRow.id).where(CheckRunRow.phase == "first_hour")
        )
        assert list(runs.all()) == [run_id]


async def test_a_run_of_a_release_moved_on_is_closed_as_it_is(
    replicas: tuple[Services, Services],
) -> None:
    one, two = replicas
    release_id = await opened(one)
    run_id = await run_left(one, release_id, recorded=2)
    await one.releases.cancel(release_id, "UREL")
    await asyncio.sleep(DIED + 0.2)
    assert await two.checks.resume() == 1
    await two.deps.tasks.drain()
    row, found = await run_of(one.deps, run_id)
    assert row.finished_at is not None and len(found) == 2  # nothing more checked


async def test_starting_a_replica_never_closes_a_live_replica_s_run(
    replicas: tuple[Services, Services],
) -> None:
    one, two = replicas
    if two.deps.db.dialect != "postgresql":
        pytest.skip("on SQLite (one replica) every unfinished run at start is its own")
    release_id = await opened(one)
    live = await run_left(one, release_id, recorded=3, lease=30.0)  # `first` runs it now
    mine = await run_left(two, release_id, recorded=1, lease=30.0)  # `second`'s earlier life
    async with one.deps.db.write() as uow:  # a run from before runs had holders
        old = await uow.checks.start_run(release_id, "command", None, 4, T0)

    assert await two.checks.close_leftovers() == 2  # `second` starts
    assert (await run_of(one.deps, mine))[0].finished_at is not None
    assert (await run_of(one.deps, old))[0].finished_at is not None
    row, _ = await run_of(one.deps, live)
    assert row.finished_at is None and row.holder == "first"
    async with one.deps.db.write() as uow:  # `first` goes on with it
        assert await uow.coordination.renew_run(live, "first", 30.0)
    assert await two.checks.resume() == 0  # and nobody takes it over


@pytest.mark.sqlite(reason="one replica: every unfinished run at start is its own")
async def test_on_sqlite_a_start_closes_every_run_left_unfinished(
    replicas: tuple[Services, Services],
) -> None:
    one, two = replicas
    release_id = await opened(one)
    runs = [
        await run_left(one, release_id, recorded=3, lease=30.0),
        await run_left(two, release_id, recorded=1, lease=30.0, holder="an earlier life"),
    ]
    before = await card_version(one.deps, release_id)
    assert await two.checks.close_leftovers() == 2
    for run_id in runs:
        assert (await run_of(one.deps, run_id))[0].finished_at == T0
    assert await card_version(one.deps, release_id) > before  # drawn without "Running checks"
    assert await two.checks.close_leftovers() == 0


async def test_a_run_handed_over_at_stop_is_taken_over_at_once(
    replicas: tuple[Services, Services],
) -> None:
    """A replica stopping mid-run ends its lease now: another takes the run over on its
    next tick rather than once the lease would have run out; a run it no longer holds
    is not its to hand over."""
    first, second = replicas
    release_id = await opened(first)
    run_id = await run_left(first, release_id, recorded=2, lease=600)
    assert await second.checks.resume() == 0  # held for ten minutes yet
    await leases.hand_over(second.deps, run_id)  # not second's: nothing changes
    assert await second.checks.resume() == 0
    await leases.hand_over(first.deps, run_id)
    assert await second.checks.resume() == 1
    await second.deps.tasks.drain()
    async with second.deps.db.read() as uow:
        run = await uow.session.get(CheckRunRow, run_id)
        assert run is not None and run.finished_at is not None and run.holder == "second"
