"""Reminders in a release's thread: who still has to sign, daily and as the window nears.

Each reminder is recorded (a schedule mark) in the transaction that queues it, so a
restart or two overlapping ticks never post it twice.
"""

from __future__ import annotations

import logging
from datetime import datetime

from bot.db import UnitOfWork
from bot.domain.model import Release, ReleaseState
from bot.domain.reminders import reminder
from bot.services.deps import Service
from bot.services.records import load_view

log = logging.getLogger(__name__)

AWAITING = (ReleaseState.OPEN, ReleaseState.BLOCKED)  # still collecting signatures
WINDOW_LEAD_KEY = "window-lead"


def daily_key(now: datetime) -> str:
    return f"reminder:{now.date().isoformat()}"  # the clock is UTC: one per UTC date


class ReminderService(Service):
    async def daily(self) -> int:
        """Post, once per release per UTC date, which roles are still pending; returns
        how many reminders were queued. The scheduler calls it on `schedules.reminder`."""
        now = self.deps.clock.now()
        key = daily_key(now)
        posted = 0
        for release in await self._awaiting():
            if await self._remind(release.id, key, now):
                posted += 1
        return posted

    async def window_soon(self) -> int:
        """Mention the pending signers again, once, when a planned deployment window starts
        within `schedules.window_lead`; returns how many reminders were queued. Called on
        every scheduler tick."""
        now = self.deps.clock.now()
        lead = self.app.schedules.window_lead
        posted = 0
        for release in await self._awaiting():
            start = release.window_start
            if start is None or not now <= start <= now + lead:
                continue
            if await self._remind(release.id, WINDOW_LEAD_KEY, now, start - lead, start):
                posted += 1
        return posted

    async def _awaiting(self) -> list[Release]:
        async with self.deps.db.read() as uow:
            return await uow.releases.find(list(AWAITING), limit=1000)

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
        notice = reminder(self.app, await load_view(uow, self.app, release), window_start)
        if notice is None or not await uow.marks.mark(release.id, key, due_at, now):
            return False
        await uow.outbox.enqueue(release.id, notice, now)
        return True
