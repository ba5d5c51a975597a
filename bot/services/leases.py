"""A check run is held by the replica running it (`Deps.replica`), under a lease of the
database's clock (`checks.lease`, 30 s) renewed with each result it records and every
third of the lease between them (one check may take longer than a lease). A replica that
dies mid-run stops renewing: once the lease runs out, another replica's tick takes the run
over, runs the items it has no result for yet, and finishes it.

Each result is recorded in the transaction that renews the lease, and a run is finished
only by its holder: a replica that lost its run (it stalled past the lease, and another
took the run over) records nothing more of it, so every item of a run is recorded once.

A replica stopping mid-run on PostgreSQL (its runs outlasting the drain at shutdown) hands
them over rather than finishing them: each lease ends at once, and another replica's next
tick carries the run on. On SQLite (one process), a stopping bot finishes its runs short.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator

from bot.db import UnitOfWork
from bot.services.deps import Deps

log = logging.getLogger(__name__)


def lease_of(deps: Deps) -> float:
    """How long a run stays its holder's without a renewal, in seconds."""
    return deps.catalog.bot.checks.lease.total_seconds()


async def renew(uow: UnitOfWork, deps: Deps, run_id: int) -> bool:
    """This replica still holds the run (False: another took it over)."""
    return await uow.coordination.renew_run(run_id, deps.replica, lease_of(deps))


async def finish(uow: UnitOfWork, deps: Deps, run_id: int) -> bool:
    """The run is over, if this replica still holds it (False: another took it over and
    finishes it)."""
    if not await renew(uow, deps, run_id):
        log.warning("check run %s was taken over by another replica; it finishes it", run_id)
        return False
    await uow.checks.finish_run(run_id, deps.clock.now())
    return True


def handing_over(deps: Deps) -> bool:
    """A run cancelled now is handed over rather than finished short: this replica is
    stopping (its background work is being drained) and, on PostgreSQL, another replica
    can carry the run on. A run cancelled otherwise (Ctrl-C on `readiness check`), or on
    SQLite, is finished as it is."""
    return deps.tasks.stopping and deps.db.dialect == "postgresql"


async def hand_over(deps: Deps, run_id: int) -> None:
    """This replica is stopping mid-run: the run is left for another to take over now
    rather than once its lease runs out. Best effort: the lease runs out anyway."""
    try:
        async with deps.db.write() as uow:
            if await uow.coordination.let_go_run(run_id, deps.replica):
                log.info("check run %s cut short by this replica's stop: handed over", run_id)
    except Exception as exc:
        log.warning("could not hand check run %s over (its lease runs out): %s", run_id, exc)


async def close(deps: Deps, run_id: int) -> None:
    """A run taken over with nothing left to run (its release moved on, its product is no
    longer configured, a newer run of it is in flight here): finished as it is."""
    async with deps.db.write() as uow:
        await finish(uow, deps, run_id)


@contextlib.asynccontextmanager
async def renewing(deps: Deps, run_id: int) -> AsyncIterator[None]:
    """While the block runs, the run's lease is renewed every third of it."""
    task = asyncio.create_task(_keep(deps, run_id), name=f"lease of check run {run_id}")
    try:
        yield
    finally:
        task.cancel()
        try:
            await task
        except asyncio.CancelledError:
            current = asyncio.current_task()
            if current is not None and current.cancelling():
                raise  # the run itself is being cancelled, not only its renewals


async def _keep(deps: Deps, run_id: int) -> None:
    while True:
        await asyncio.sleep(lease_of(deps) / 3)
        try:
            async with deps.db.write() as uow:
                held = await renew(uow, deps, run_id)
        except Exception as exc:  # the next renewal, or the next result, tries again
            log.warning("could not renew the lease of check run %s: %s", run_id, exc)
            continue
        if not held:
            return
