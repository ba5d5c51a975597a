"""Two replicas' services on one database: a cron time fires on both, the work happens once;
a replica that died holding the job leaves it to the other's tick."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import replace

import pytest
from apscheduler.triggers.cron import CronTrigger
from sqlalchemy import func, select

from bot.db import Database
from bot.db.tables import CheckRunRow, JobRow
from bot.runtime.scheduler import Scheduler
from bot.services.container import Services
from bot.services.deps import Deps
from tests.services.conftest import T0, FixedClock

PRODUCT = "lumines_wis2l"


@pytest.fixture
async def replicas(deps: Deps) -> AsyncIterator[tuple[Services, Services]]:
    other = Database(deps.settings.env.database_url)
    second = replace(deps, db=other, replica="second", products={})
    yield Services.build(replace(deps, replica="first")), Services.build(second)
    await other.close()


async def scheduled_runs(deps: Deps) -> int:
    async with deps.db.read() as uow:
        query = (
            select(func.count()).select_from(CheckRunRow).where(CheckRunRow.trigger == "schedule")
        )
        return int(await uow.session.scalar(query) or 0)


async def test_a_cron_time_on_two_replicas_rechecks_once(
    replicas: tuple[Services, Services], clock: FixedClock
) -> None:
    one, two = replicas
    opened = await one.releases.open("LUMINES 1.0.0", None, "UREL", "CRELEASE")
    await one.deps.tasks.drain()
    trigger = CronTrigger.from_crontab("0 9 * * *", T0.tzinfo)
    clock.at = T0.replace(hour=9, second=1)
    schedulers = [Scheduler(one), Scheduler(two)]
    await asyncio.gather(*(s.fire(f"recheck:{PRODUCT}", trigger) for s in schedulers))
    assert await scheduled_runs(one.deps) == 1
    async with one.deps.db.read() as uow:
        job = (await uow.session.scalars(select(JobRow))).one()
    assert (job.name, job.due_at, job.done_at is not None) == (
        f"recheck:{PRODUCT}",
        clock.at.replace(second=0),
        True,
    )
    # The next day's firing is another job, run once again.
    clock.at = clock.at.replace(day=2)
    await asyncio.gather(*(s.fire(f"recheck:{PRODUCT}", trigger) for s in schedulers))
    assert await scheduled_runs(one.deps) == 2
    assert opened.created


async def test_a_job_whose_holder_died_is_finished_by_another_tick(
    replicas: tuple[Services, Services],
) -> None:
    one, two = replicas
    await one.releases.open("LUMINES 1.0.0", None, "UREL", "CRELEASE")
    await one.deps.tasks.drain()
    async with one.deps.db.write() as uow:  # `one` claimed it, for a moment, then died
        await uow.coordination.schedule(f"recheck:{PRODUCT}", T0)
        assert await uow.coordination.claim("first", 0.1)
    assert await two.jobs.resume() == 0  # still held by the one that died
    await asyncio.sleep(0.3)
    assert await two.jobs.resume() == 1
    assert await scheduled_runs(one.deps) == 1
    assert await two.jobs.resume() == 0  # done
