"""APScheduler as a clock, thin wrappers over services: re-checks, reminders, the tick.

APScheduler only says when a cron time comes; each replica that sees it asks the jobs
table (`JobService`), and the run happens once, on one replica. Jobs coalesce and never
overlap here (`max_instances=1`); what each tick does is decided from the database, so a
restart (or a second replica) neither loses nor repeats anything.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Iterator
from datetime import UTC, timedelta
from typing import Any

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
        self._running: set[asyncio.Task[Any]] = set()  # the jobs running now

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
            for kind, cron in (("recheck", schedules.recheck), ("reminder", schedules.reminder)):
                if cron:
                    trigger = CronTrigger.from_crontab(cron, UTC)
                    name = f"{kind}:{product}"
                    self.scheduler.add_job(self.fire, trigger, args=[name, trigger], id=name)

    async def stop(self, grace: float = 5.0) -> None:
        """No more firings; the jobs running now are cancelled and waited for (GRACE s at
        most), so none is left touching the database once it closes. One cut off there
        left `asyncio.run` waiting at exit on a connection already gone."""
        if self.scheduler.running:
            self.scheduler.shutdown(wait=False)
        running = [task for task in self._running if not task.done()]
        for task in running:
            task.cancel()
        if running:
            await asyncio.wait(running, timeout=grace)

    @contextlib.contextmanager
    def _job(self) -> Iterator[None]:
        """Around a job's run: it is this scheduler's to stop."""
        task = asyncio.current_task()
        if task is not None:
            self._running.add(task)
        try:
            yield
        finally:
            if task is not None:
                self._running.discard(task)

    async def recheck(self, product: str | None = None) -> int:
        """Re-run the automated checks of every release (of PRODUCT) before deployment."""
        ran = await self.services.checks.recheck(product)
        log.info("scheduled re-check ran the checks of %d release(s)", ran)
        return ran

    async def remind(self, product: str | None = None) -> None:
        posted = await self.services.reminders.daily(product)
        log.info("daily reminder posted in %d release thread(s)", posted)

    async def fire(self, name: str, trigger: CronTrigger) -> None:
        """A cron time came: the job of that time runs once, on whichever replica claims it."""
        with self._job():
            now = self.services.deps.clock.now()
            due = trigger.get_next_fire_time(None, now - timedelta(seconds=30))  # this firing's
            if await self.services.jobs.due(name, due or now):
                log.info("scheduled %s ran here", name)

    async def tick(self) -> None:
        """Each step of the tick on its own: one that fails is logged, and the next runs
        (a failing monitor must not keep waivers from expiring)."""
        services = self.services
        steps = (
            services.jobs.resume,
            services.checks.resume,  # post-deploy runs: the monitor's tick
            services.monitor.tick,
            services.waivers.expire,
            services.freezes.redraw_at_edges,
            services.reminders.window_soon,
        )
        with self._job():
            for step in steps:
                try:
                    await step()
                except Exception:
                    log.exception("the tick's %s failed", step.__qualname__)
