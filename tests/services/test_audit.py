"""Verifying the audit chain on from its last verified checkpoint: what each walk checks,
what it records, what the export reports, and that a long walk lets others' work run."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from pathlib import Path

from bot.db import Database
from bot.db.migrate import upgrade
from bot.services.audit import SLICE, verify_chain
from bot.services.deps import Deps
from bot.services.export import ExportService
from bot.services.releases import ReleaseService
from tests.databases import Databases
from tests.services.conftest import CHANNEL, T0, FixedClock


async def append(db: Database, release_id: int | None, events: int, clock: FixedClock) -> None:
    async with db.write() as uow:
        for n in range(events):
            clock.advance(seconds=1)
            await uow.audit.append("items.ticked", clock.now(), release_id, "UOPS", n=n)


async def test_each_walk_goes_on_from_the_last_and_records_where_it_got(
    deps: Deps, clock: FixedClock
) -> None:
    db = deps.db
    await append(db, None, 4, clock)
    first = await verify_chain(db, now=clock.now)
    assert (first.ok, first.events, first.checked, first.since) == (True, 4, 4, None)
    assert first.full  # no checkpoint yet: from the first event

    await append(db, None, 3, clock)
    clock.advance(minutes=1)
    second = await verify_chain(db, now=clock.now)
    assert (second.ok, second.events, second.checked, second.full) == (True, 7, 3, False)
    assert second.since is not None
    assert (second.since.event_id, second.since.count) == (4, 4)
    assert second.since.verified_at == T0 + timedelta(seconds=4)

    unchanged = await verify_chain(db, now=clock.now)  # nothing new: nothing to walk
    assert (unchanged.events, unchanged.checked, unchanged.head) == (7, 0, second.head)
    full = await verify_chain(db, full=True, now=clock.now)
    assert (full.ok, full.events, full.checked, full.head) == (True, 7, 7, second.head)
    async with db.read() as uow:
        checkpoints = await uow.audit.checkpoints()
        assert await uow.audit.head() == (second.head, 7)
    assert [(c.event_id, c.count) for c in checkpoints] == [(4, 4), (7, 7)]  # none twice


async def test_the_export_verifies_only_what_came_after_the_last_walk(
    deps: Deps, clock: FixedClock
) -> None:
    opened = await ReleaseService(deps).open("LUMINES 1.0.0", "abc", "UREL", CHANNEL)
    release_id = opened.release.id
    await append(deps.db, release_id, 5, clock)
    export = ExportService(deps)
    document = await export.document(release_id)
    assert (document.audit.events, document.audit.problem) == (6, None)

    await append(deps.db, release_id, 2, clock)
    again = await export.document(release_id)
    async with deps.db.read() as uow:
        newest = await uow.audit.checkpoint()
    assert newest is not None and (newest.count, newest.hash) == (8, again.audit.head)
    assert (again.audit.events, again.audit.problem) == (8, None)
    chain = await verify_chain(deps.db, full=True)
    assert (chain.events, chain.head) == (again.audit.events, again.audit.head)


async def test_a_long_walk_hands_the_event_loop_back(deps: Deps, clock: FixedClock) -> None:
    events = 25 * SLICE
    await append(deps.db, None, events, clock)
    walking, turns = True, 0

    async def other() -> None:  # a reply waiting for the loop
        nonlocal turns
        while walking:
            await asyncio.sleep(0)
            turns += 1

    beside = asyncio.create_task(other())
    report = await verify_chain(deps.db, full=True)
    walking = False
    await beside
    assert report.ok and report.checked == events
    assert turns >= events // SLICE  # at least once every SLICE events


async def test_a_database_not_yet_upgraded_is_walked_in_full(
    tmp_path: Path, databases: Databases, clock: FixedClock
) -> None:
    db = Database(databases.url(tmp_path, "old.db"))
    try:
        await upgrade(db, "0006")  # before audit_checkpoints
        await append(db, None, 3, clock)
        for _ in range(2):
            report = await verify_chain(db)
            assert (report.ok, report.events, report.checked, report.since) == (True, 3, 3, None)
    finally:
        await db.close()
