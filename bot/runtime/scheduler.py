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
        self.plan()
        tick = self.services.deps.catalog.bot.tick
        self.scheduler.add_job(
            self.tick,
            IntervalTrigger(seconds=tick.total_seconds()),
            id="tick",
            next_run_time=self.services.deps.clock.now(),
        )
        self.scheduler.start()

    def plan(self) -> None:
        """Each product's re-check and reminder crons, as its `schedules` says (called
        again when the config is reloaded: jobs of products gone or changed are replaced)."""
        for job in self.scheduler.get_jobs():
            if job.id.startswith(("recheck:", "reminder:")):
                job.remove()
        for product, app in self.services.deps.catalog.products.items():
            schedules = app.schedules
            if schedules.recheck:
                self.scheduler.add_job(
                    self.recheck,
                    CronTrigger.from_crontab(schedules.recheck, UTC),
                    args=[product],
                    id=f"recheck:{product}",
                )
            if schedules.reminder:
                self.scheduler.add_job(
                    self.remind,
                    CronTrigger.from_crontab(schedules.reminder, UTC),
                    args=[product],
                    id=f"reminder:{product}",
                )

    def stop(self) -> None:
        if self.scheduler.running:
            self.scheduler.shutdown(wait=False)

    async def recheck(self, product: str | None = None) -> int:
        """Re-run the automated checks of every release (of PRODUCT) before deployment."""
        ran = await self.services.checks.recheck(product)
        log.info("scheduled re-check ran the checks of %d release(s)", ran)
        return ran

    async def remind(self, product: str | None = None) -> None:
        posted = await self.services.reminders.daily(product)
        log.info("daily reminder posted in %d release thread(s)", posted)

    async def tick(self) -> None:
        await self.services.monitor.tick()
        await self.services.reminders.window_soon()
