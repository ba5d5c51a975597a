"""Reminders: who still has to sign what, daily in each release channel (one message for all
its releases), and in a release's thread as its planned window nears.

Each reminder is recorded (a schedule mark) in the transaction that queues it, so a
restart or two overlapping ticks never post it twice.
"""

from __future__ import annotations

import logging
from datetime import datetime

from bot.db import UnitOfWork
from bot.domain.model import Release, ReleaseState
from bot.domain.reminders import daily_reminder, reminder
from bot.services.deps import Service
from bot.services.records import load_view, pages

log = logging.getLogger(__name__)

AWAITING = (ReleaseState.OPEN, ReleaseState.BLOCKED)  # still collecting signatures
WINDOW_LEAD_KEY = "window-lead"


def daily_key(now: datetime) -> str:
    return f"reminder:{now.date().isoformat()}"  # the clock is UTC: one per UTC date


class ReminderService(Service):
    async def daily(self, product: str | None = None) -> int:
        """Post, in each release channel, one reminder listing for each person the
        releases of PRODUCT (None: of every product) waiting for them, each release once
        per UTC date; returns how many releases it reminded of. The scheduler calls it on
        each product's `schedules.reminder`."""
        now = self.deps.clock.now()
        channels: dict[tuple[str, str], list[Release]] = {}
        for release in await self._awaiting():
            if product in (None, release.product):
                channels.setdefault((release.product, release.channel), []).append(release)
        reminded = 0
        for (_, channel), releases in channels.items():
            try:
                reminded += await self._daily(releases, daily_key(now), now)
            except Exception:
                log.exception("the daily reminder in %s failed", channel)
        return reminded

    async def _daily(self, releases: list[Release], key: str, now: datetime) -> int:
        """One channel's reminder, in one transaction with the marks of what it names."""
        app = self.deps.config(releases[0])
        async with self.deps.db.write() as uow:
            views = []
            for listed in releases:
                release = await uow.releases.get(listed.id)
                if release is None or release.state not in AWAITING:
                    continue  # signed or cancelled since the list was read
                if await uow.marks.mark(release.id, key, now, now):
                    views.append(await load_view(uow, app, release))
            notice = daily_reminder(app, views, now)
            if notice is None:
                return 0
            await uow.outbox.enqueue(views[0].release.id, notice, now)
            return len(views)

    async def window_soon(self) -> int:
        """Mention the pending signers again, once, when a planned deployment window starts
        within `schedules.window_lead`; returns how many reminders were queued. Called on
        every scheduler tick."""
        now = self.deps.clock.now()
        posted = 0
        for release in await self._awaiting():
            lead = self.deps.config(release).schedules.window_lead
            start = release.window_start
            if start is None or not now <= start <= now + lead:
                continue
            if await self._remind(release.id, WINDOW_LEAD_KEY, now, start - lead, start):
                posted += 1
        return posted

    async def _awaiting(self) -> list[Release]:
        """Every release still collecting signatures, of a configured product (read a page
        at a time)."""
        products = self.catalog.products
        return [
            release
            async for page in pages(self.deps, AWAITING)
            for release in page
            if release.product in products
        ]

    async def _remind(
        self,
        release_id: int,
        key: str,
        now: datetime,
        due_at: datetime | None = None,
        window_start: datetime | None = None,
    ) -> bool:
        """Queue one reminder unless it was already posted; one release's failure is
        logged and does not stop the others."""
        try:
            async with self.deps.db.write() as uow:
                return await self._queue(uow, release_id, key, now, due_at or now, window_start)
        except Exception:
            log.exception("reminder %s for release %s failed", key, release_id)
            return False

    async def _queue(
        self,
        uow: UnitOfWork,
        release_id: int,
        key: str,
        now: datetime,
        due_at: datetime,
        window_start: datetime | None,
    ) -> bool:
        release = await uow.releases.get(release_id)
        if release is None or release.state not in AWAITING:
            return False  # signed or cancelled since the list was read
        app = self.deps.config(release)
        notice = reminder(app, await load_view(uow, app, release), window_start, now)
        if notice is None or not await uow.marks.mark(release.id, key, due_at, now):
            return False
        await uow.outbox.enqueue(release.id, notice, now)
        return True
