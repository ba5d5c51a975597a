"""Scheduled bot-wide work (each product's recheck and daily reminder) done once per due
time, however many replicas fire it: the first to ask records the run, one claims it under
a lease of the database's clock, and a replica that dies mid-run leaves a lease that runs
out, after which another replica's tick finishes the job."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from datetime import datetime

from bot.services.deps import Deps, Service

log = logging.getLogger(__name__)

Work = Callable[[], Awaitable[object]]
LEASE = 15 * 60.0  # seconds: longer than a recheck of every open release takes


class JobService(Service):
    def __init__(self, deps: Deps, works: Callable[[str], Work | None]) -> None:
        super().__init__(deps)
        self.works = works  # a job's name -> what it does (None: no longer configured)

    async def due(self, name: str, due_at: datetime) -> bool:
        """NAME fell due at DUE_AT (a cron time, the same on every replica): run it here
        unless another replica has it; True when this replica ran it."""
        async with self.deps.db.write() as uow:
            await uow.coordination.schedule(name, due_at)
        return bool(await self._claim_and_run(name))

    async def resume(self) -> int:
        """Jobs whose holder's lease ran out (it died, or never finished): run here."""
        return await self._claim_and_run(None)

    async def _claim_and_run(self, name: str | None) -> int:
        holder = self.deps.replica
        async with self.deps.db.write() as uow:
            claimed = await uow.coordination.claim(holder, LEASE, name)
        for job, due_at in claimed:
            work = self.works(job)
            if work is None:
                log.info("job %s due %s: nothing configured runs it now", job, due_at)
            else:
                try:
                    await work()
                except Exception:  # its lease runs out; another tick tries again
                    log.exception("job %s due %s failed", job, due_at)
                    continue
            async with self.deps.db.write() as uow:
                if not await uow.coordination.finish(job, due_at, holder):
                    log.warning("job %s due %s ran past its lease", job, due_at)
        return len(claimed)
