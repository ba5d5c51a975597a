"""Replicas coordinating through the database they share: two Database objects on one
database stand for two processes (run on PostgreSQL with `--database postgresql`)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import text

from bot.db import Database
from bot.db.coordination import TakenRun
from bot.db.migrate import upgrade
from tests.databases import Databases

DUE = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


@pytest.fixture
async def pair(tmp_path: Path, databases: Databases) -> AsyncIterator[tuple[Database, Database]]:
    url = databases.url(tmp_path)
    one, two = Database(url), Database(url)
    await upgrade(one)
    yield one, two
    await one.close()
    await two.close()


async def test_a_job_due_once_runs_once_whoever_asks(pair: tuple[Database, Database]) -> None:
    async def claim(db: Database, holder: str) -> list[tuple[str, datetime]]:
        async with db.write() as uow:
            await uow.coordination.schedule("recheck:lumines", DUE)
            return await uow.coordination.claim(holder, 60.0, "recheck:lumines")

    got = await asyncio.gather(*(claim(db, f"r{n}") for n, db in enumerate(pair * 5)))
    assert sorted(len(g) for g in got) == [0] * 9 + [1]
    (winner,) = [n for n, g in enumerate(got) if g]
    async with pair[0].write() as uow:
        assert not await uow.coordination.finish("recheck:lumines", DUE, "someone else")
        assert await uow.coordination.finish("recheck:lumines", DUE, f"r{winner}")
        assert await uow.coordination.claim("r9", 60.0) == []  # done: nobody runs it again


async def test_a_dead_holder_s_lease_runs_out_and_another_finishes(
    pair: tuple[Database, Database],
) -> None:
    one, two = pair
    async with one.write() as uow:
        await uow.coordination.schedule("reminder:lumines", DUE)
        assert await uow.coordination.claim("dies", 0.2) == [("reminder:lumines", DUE)]
    async with two.write() as uow:
        assert await uow.coordination.claim("lives", 60.0) == []  # still held
    await asyncio.sleep(0.4)  # the lease is reckoned on the database's clock
    async with two.write() as uow:
        assert await uow.coordination.claim("lives", 60.0) == [("reminder:lumines", DUE)]
        assert await uow.coordination.finish("reminder:lumines", DUE, "lives")
    async with one.read() as uow:
        attempts = (await uow.session.execute(text("SELECT attempts FROM jobs"))).scalar_one()
    assert attempts == 2


async def test_one_replica_sends_a_channel_until_its_lease_runs_out(
    pair: tuple[Database, Database],
) -> None:
    one, two = pair
    async with one.write() as uow:
        assert await uow.coordination.hold_channels("a", ["C1", "C2"], 0.3) == {"C1", "C2"}
    async with two.write() as uow:
        assert await uow.coordination.hold_channels("b", ["C2", "C3"], 60.0) == {"C3"}
    async with one.write() as uow:  # renewed by its holder
        assert await uow.coordination.hold_channels("a", ["C1"], 0.3) == {"C1"}
    await asyncio.sleep(0.5)
    async with two.write() as uow:
        assert await uow.coordination.hold_channels("b", ["C1", "C2"], 60.0) == {"C1", "C2"}


async def test_a_replica_that_stops_lets_its_channels_go_at_once(
    pair: tuple[Database, Database],
) -> None:
    one, two = pair
    async with one.write() as uow:
        assert await uow.coordination.hold_channels("a", ["C1", "C2"], 60.0) == {"C1", "C2"}
        assert await uow.coordination.hold_channels("b", ["C3"], 60.0) == {"C3"}
    async with one.write() as uow:
        await uow.coordination.let_go_channels("a")
    async with two.write() as uow:  # long before a's lease would have run out
        assert await uow.coordination.hold_channels("c", ["C1", "C2", "C3"], 60.0) == {"C1", "C2"}


async def test_a_signed_request_is_accepted_once_by_any_replica(
    pair: tuple[Database, Database],
) -> None:
    now = datetime.now(UTC)
    keep = timedelta(minutes=6)
    async with pair[0].write() as uow:
        assert await uow.coordination.first_request("k1", now, keep)
    async with pair[1].write() as uow:
        assert not await uow.coordination.first_request("k1", now, keep)
        assert await uow.coordination.first_request("k2", now, keep)
    async with pair[1].write() as uow:  # forgotten once past the signature's validity
        assert await uow.coordination.first_request("k1", now + keep * 2, keep)


async def test_a_check_run_whose_holder_died_is_taken_over_once(
    pair: tuple[Database, Database],
) -> None:
    one, two = pair
    async with one.write() as uow:
        release = await uow.releases.add("LUMINES 1.0.0", "CREL", "abc123", "UREL", DUE, "v1")
        run_id = await uow.checks.start_run(release.id, "command", "UENG", 3, DUE)
        await uow.coordination.own_run(run_id, "dies", 0.3, "infrastructure")
    async with two.write() as uow:
        assert await uow.coordination.take_over_runs("lives", 60.0, monitoring=False) == []
    async with one.write() as uow:  # renewed by its holder as its results land
        assert await uow.coordination.renew_run(run_id, "dies", 0.3)
    await asyncio.sleep(0.5)  # then it dies: its lease runs out on the database's clock

    async def take(db: Database, holder: str) -> list[TakenRun]:
        async with db.write() as uow:
            return await uow.coordination.take_over_runs(holder, 60.0, monitoring=False)

    got = await asyncio.gather(*(take(db, f"r{n}") for n, db in enumerate(pair * 5)))
    assert sorted(len(g) for g in got) == [0] * 9 + [1]
    (taken,) = [run for g in got for run in g]
    assert taken == TakenRun(run_id, release.id, "command", "UENG", None, "infrastructure")
    async with one.write() as uow:
        assert not await uow.coordination.renew_run(run_id, "dies", 60.0)  # it lost the run
        assert await uow.coordination.take_over_runs("r9", 60.0, monitoring=False) == []
        assert await uow.coordination.take_over_runs("r9", 60.0, monitoring=True) == []
        query = text("SELECT holder FROM check_runs WHERE id = :id")
        holder = await uow.session.scalar(query, {"id": run_id})
    (winner,) = [n for n, g in enumerate(got) if g]
    assert holder == f"r{winner}"


async def test_a_post_deploy_run_is_taken_over_apart_from_the_checklist_s(
    pair: tuple[Database, Database],
) -> None:
    one, two = pair
    async with one.write() as uow:
        release = await uow.releases.add("LUMINES 1.0.0", "CREL", "abc123", "UREL", DUE, "v1")
        run_id = await uow.checks.start_run(release.id, "monitor", None, 2, DUE, "first_hour")
        await uow.coordination.own_run(run_id, "dies", 0.1, None)
    await asyncio.sleep(0.3)
    async with two.write() as uow:
        assert await uow.coordination.take_over_runs("lives", 60.0, monitoring=False) == []
        (taken,) = await uow.coordination.take_over_runs("lives", 60.0, monitoring=True)
    assert (taken.id, taken.phase, taken.section) == (run_id, "first_hour", None)
