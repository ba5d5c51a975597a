"""Reminders in a release's thread: who still has to sign, daily and as the window nears.

Each reminder is recorded (a schedule mark) in the transaction that queues it, so a
restart or two overlapping ticks never post it twice.
"""

from __future__ import annotations

import logging
from datetime import datetime

from bot.config import AppConfig
from bot.db import Repo
from bot.domain.model import Release, ReleaseState
from bot.domain.reminders import pending_roles
from bot.domain.view import ReleaseView
from bot.services.deps import Deps
from bot.services.notices import pending_text, slack_date
from bot.services.records import load_view
from bot.text import escape

log = logging.getLogger(__name__)

AWAITING = (ReleaseState.OPEN, ReleaseState.BLOCKED)  # still collecting signatures
WINDOW_LEAD_KEY = "window-lead"


def daily_key(now: datetime) -> str:
    return f"reminder:{now.date().isoformat()}"  # the clock is UTC: one per UTC date


def reminder_text(app: AppConfig, view: ReleaseView, opening: str) -> str | None:
    """The reminder for one release, or None when no role is pending."""
    pending = pending_roles(app, view.release, view.signatures)
    if not pending:
        return None
    lines = [f"{opening} still pending: {pending_text(pending)}."]
    status = [f"Readiness {view.readiness.percent}%"]
    failing = len(view.readiness.blocking_not_passing)
    if failing:
        status.append(f"{failing} blocking item(s) not passing")
    if view.rejections:
        who = ", ".join(f"<@{r.user_id}>" for r in view.rejections)
        status.append(f"blocked until {who} withdraw(s) the rejection")
    lines.append(" · ".join(status) + ".")
    return "\n".join(lines)


class ReminderService:
    def __init__(self, deps: Deps) -> None:
        self.deps = deps

    @property
    def app(self) -> AppConfig:
        return self.deps.settings.app

    async def daily(self) -> int:
        """Post, once per release per UTC date, which roles are still pending; returns
        how many reminders were queued. The scheduler calls it on `schedules.reminder`."""
        now = self.deps.clock.now()
        key = daily_key(now)
        posted = 0
        for release in await self._awaiting():
            name = f"*{escape(release.name)}*"
            if await self._remind(release.id, key, now, f":bell: {name}:"):
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
            opening = (
                f":alarm_clock: The deployment window of *{escape(release.name)}* "
                f"starts {slack_date(start)};"
            )
            if await self._remind(release.id, WINDOW_LEAD_KEY, now, opening, start - lead):
                posted += 1
        return posted

    async def _awaiting(self) -> list[Release]:
        async with self.deps.db.read() as repo:
            return await repo.releases(list(AWAITING), limit=1000)

    async def _remind(
        self,
        release_id: int,
        key: str,
        now: datetime,
        opening: str,
        due_at: datetime | None = None,
    ) -> bool:
        """Queue one reminder unless it was already posted; one release's failure is
        logged and does not stop the others."""
        try:
            async with self.deps.db.write() as repo:
                queued = await self._queue(repo, release_id, key, now, opening, due_at or now)
        except Exception:
            log.exception("reminder %s for release %s failed", key, release_id)
            return False
        if queued:
            self.deps.outbox_ready.set()
        return queued

    async def _queue(
        self,
        repo: Repo,
        release_id: int,
        key: str,
        now: datetime,
        opening: str,
        due_at: datetime,
    ) -> bool:
        release = await repo.release(release_id)
        if release is None or release.state not in AWAITING:
            return False  # signed or cancelled since the list was read
        text = reminder_text(self.app, await load_view(repo, self.app, release), opening)
        if text is None or not await repo.mark(release.id, key, due_at, now):
            return False
        await repo.enqueue(release.id, text, now)
        return True
