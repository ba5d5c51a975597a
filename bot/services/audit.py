"""Proving the record wasn't edited: walk the audit log's hash chain, on from the head the
last verification checked (a checkpoint), or from the first event (`full`).

An incremental walk costs what was appended since the last one, however long the log: it
checks that the checkpoint's event still has the hash it had (a rewrite of the log before
it, rehashed to link up, changes that hash; so does cutting the log back), then every
event after it. What it doesn't re-check is the content of the events up to the
checkpoint against their stored hashes: an edit there that leaves the hashes as they were
is found by the full walk, which re-checks every event from the first, and every
checkpoint against the events it walked.

The walk reads a batch at a time (each its own short read) and hands the event loop back
every few events, so replies to others are not held while a long log is walked.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from contextlib import aclosing
from datetime import UTC, datetime

from sqlalchemy.exc import DBAPIError

from bot.db import Database
from bot.domain.audit import GENESIS, ChainReport, Checkpoint, chain_problem, checkpoint_problem

log = logging.getLogger(__name__)

BATCH = 1000  # events read by one query, in one short read
SLICE = 50  # events turned from rows and checked between handing the event loop back


def _utc_now() -> datetime:
    return datetime.now(UTC)


async def verify_chain(
    db: Database, full: bool = False, now: Callable[[], datetime] = _utc_now
) -> ChainReport:
    """Each event must hash its own content and its predecessor's hash; the first that
    doesn't is named (edited content, a deleted or inserted event, a forged hash). A walk
    that finds none records its head as the newest checkpoint."""
    async with db.read() as uow:
        keeps = await uow.audit.keeps_checkpoints()  # False: a schema not yet upgraded
        start = await uow.audit.checkpoint() if keeps and not full else None
        known = await uow.audit.checkpoints() if keeps and full else []
        stored = await uow.audit.event_hash(start.event_id) if start is not None else None
    if start is not None:
        problem = checkpoint_problem(start, stored, None)
        if problem is not None:
            return ChainReport(start.count, start.hash, problem, False, 0, start)
        previous, count, last_id = start.hash, start.count, start.event_id
    else:
        previous, count, last_id = GENESIS, 0, 0
    witnesses: dict[int, list[Checkpoint]] = {}
    for checkpoint in known:
        witnesses.setdefault(checkpoint.event_id, []).append(checkpoint)
    checked = 0

    def report(problem: str | None = None) -> ChainReport:
        return ChainReport(count, previous, problem, start is None, checked, start)

    while True:
        walked = checked
        async with (
            db.read() as uow,
            aclosing(uow.audit.event_pages(last_id, BATCH, SLICE)) as pages,
        ):
            async for events in pages:  # a batch: one short read
                for event in events:
                    problem = chain_problem(event, previous)
                    if problem is not None:
                        return report(problem)
                    previous, count, last_id = event.hash, count + 1, event.id
                    checked += 1
                    for checkpoint in witnesses.pop(event.id, ()):
                        problem = checkpoint_problem(checkpoint, event.hash, count)
                        if problem is not None:
                            return report(problem)
                await asyncio.sleep(0)  # others' replies go first
        if checked == walked:
            break
    if witnesses:  # verified once, gone since: the log was cut back
        return report(checkpoint_problem(witnesses[min(witnesses)][0], None, None))
    if checked and keeps:
        await _record(db, last_id, previous, count, now())
    return report()


async def _record(db: Database, event_id: int, digest: str, count: int, now: datetime) -> None:
    """The new checkpoint. A database that can't take it (read-only, say) is verified all
    the same; its next walk starts from the checkpoint before."""
    try:
        async with db.write() as uow:
            await uow.audit.add_checkpoint(event_id, digest, count, now)
    except DBAPIError as exc:
        log.warning("audit chain verified up to event %s, not recorded: %s", event_id, exc)
