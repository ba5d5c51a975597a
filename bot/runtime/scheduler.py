"""APScheduler jobs, thin wrappers over services: re-checks, reminders, the monitoring tick.

Jobs coalesce and never overlap (`max_instances=1`); what each tick does is decided from
the database, so a restart neither loses nor repeats anything.
"""

from __future__ import annotations

import logging
from datetime import UTC

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from bot.services.container import Services

log = logging.getLogger(__name__)


class Scheduler:
    def __init__(self, services: Services) -> None:
        self.services = services
        self.scheduler = AsyncIOScheduler(
            timezone=UTC,
            job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": 300},
        )

    def start(self) -> None:
        schedules = self.services.deps.settings.app.schedules
        if schedules.recheck:
            self.scheduler.add_job(
                self.recheck, CronTrigger.from_crontab(schedules.recheck, UTC), id="recheck"
            )
        if schedules.reminder:
            self.scheduler.add_job(
                self.remind, CronTrigger.from_crontab(schedules.reminder, UTC), id="reminder"
            )
        self.scheduler.add_job(
            self.tick,
            IntervalTrigger(seconds=schedules.tick.total_seconds()),
            id="tick",
            next_run_time=self.services.deps.clock.now(),
        )
        self.scheduler.start()

    def stop(self) -> None:
        if self.scheduler.running:
            self.scheduler.shutdown(wait=False)

    async def recheck(self) -> int:
        """Re-run the automated checks of every release still before deployment."""
        ran = await self.services.checks.recheck()
        log.info("scheduled re-check ran the checks of %d release(s)", ran)
        return ran

    async def remind(self) -> None:
        posted = await self.services.reminders.daily()
        log.info("daily reminder posted in %d release thread(s)", posted)

    async def tick(self) -> None:
        await self.services.monitor.tick()
        await self.services.reminders.window_soon()
