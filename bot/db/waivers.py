"""Waivers of one release's items: asked for, answered, ended (each change conditional on
the state it leaves, so two replicas answering at once change it once)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import bindparam, select, update

from bot.db.outbox import WAIVER, EditedMessages
from bot.db.repository import columns, table
from bot.db.tables_waivers import WaiverRow
from bot.domain.waivers import Waiver, WaiverState

_OF = (  # read with every view of a release
    select(*columns(WaiverRow))
    .where(WaiverRow.release_id == bindparam("release"))
    .order_by(WaiverRow.id)
)
OPEN = (WaiverState.REQUESTED.value, WaiverState.GRANTED.value)


def _waiver(r: Any) -> Waiver:
    return Waiver(
        id=r.id,
        item_id=r.item_id,
        requested_by=r.requested_by,
        reason=r.reason,
        duration=timedelta(seconds=r.duration_s),
        requested_at=r.requested_at,
        ref=r.ref,
        state=WaiverState(r.state),
        decided_by=r.decided_by,
        decided_at=r.decided_at,
        denial=r.denial,
        expires_at=r.expires_at,
        ended_at=r.ended_at,
        ended_by=r.ended_by,
        item_title=r.item_title,
    )


class WaiverRepository(EditedMessages):
    MESSAGES, KIND = WaiverRow, WAIVER  # each waiver's request in the thread

    async def of(self, release_id: int) -> tuple[Waiver, ...]:
        found = await self.session.execute(_OF, {"release": release_id})
        return tuple(_waiver(r) for r in found.all())

    async def request(
        self,
        release_id: int,
        item_id: str,
        item_title: str,
        ref: str | None,
        user: str,
        reason: str,
        duration: timedelta,
        now: datetime,
    ) -> Waiver:
        """Record the request (one already open for the item raises Conflict)."""
        row = await self._insert(
            WaiverRow(
                release_id=release_id,
                item_id=item_id,
                item_title=item_title,
                ref=ref,
                requested_by=user,
                requested_at=now,
                reason=reason,
                duration_s=round(duration.total_seconds()),
                state=WaiverState.REQUESTED.value,
            )
        )
        return _waiver(row)

    async def get(self, waiver_id: int) -> tuple[int, Waiver, int] | None:
        """(release id, the waiver, the version of its request message), if it exists."""
        row = (
            await self.session.execute(select(*columns(WaiverRow)).where(WaiverRow.id == waiver_id))
        ).first()
        return None if row is None else (row.release_id, _waiver(row), row.version)

    async def _move(self, waiver_id: int, was: WaiverState, **values: Any) -> bool:
        """Set VALUES if the waiver is still in state WAS; True when this call did. Its
        request message then has a new version to show."""
        core = table(WaiverRow)
        done = await self.session.execute(
            update(core)
            .where(core.c.id == waiver_id, core.c.state == was.value)
            .values(version=core.c.version + 1, **values)
        )
        moved = bool(done.rowcount)  # type: ignore[attr-defined]
        if moved:
            self.uow.outbox_changed()
        return moved

    async def touch_unanswered(self, release_id: int) -> None:
        """The release left review (deployed, cancelled): its unanswered requests are
        redrawn, saying they can no longer be answered."""
        core = table(WaiverRow)
        done = await self.session.execute(
            update(core)
            .where(core.c.release_id == release_id, core.c.state == WaiverState.REQUESTED.value)
            .values(version=core.c.version + 1)
        )
        if done.rowcount:  # type: ignore[attr-defined]
            self.uow.outbox_changed()

    async def grant(self, waiver_id: int, user: str, now: datetime, expires: datetime) -> bool:
        return await self._move(
            waiver_id,
            WaiverState.REQUESTED,
            state=WaiverState.GRANTED.value,
            decided_by=user,
            decided_at=now,
            expires_at=expires,
        )

    async def deny(self, waiver_id: int, user: str, reason: str, now: datetime) -> bool:
        return await self._move(
            waiver_id,
            WaiverState.REQUESTED,
            state=WaiverState.DENIED.value,
            decided_by=user,
            decided_at=now,
            denial=reason,
        )

    async def end(
        self,
        waiver: Waiver,
        how: WaiverState,
        at: datetime,
        user: str | None = None,
    ) -> bool:
        """End WAIVER as HOW (withdrawn, expired, ref_changed) if it is still as read."""
        return await self._move(
            waiver.id, waiver.state, state=how.value, ended_at=at, ended_by=user
        )

    async def lapsed(self, now: datetime, limit: int = 100) -> list[tuple[int, int]]:
        """(release id, waiver id) of granted waivers whose expiry has come."""
        found = await self.session.execute(
            select(WaiverRow.release_id, WaiverRow.id)
            .where(WaiverRow.state == WaiverState.GRANTED.value, WaiverRow.expires_at <= now)
            .order_by(WaiverRow.expires_at)
            .limit(limit)
        )
        return [(r.release_id, r.id) for r in found.all()]

    async def next_expiry(self) -> datetime | None:
        found = await self.session.execute(
            select(WaiverRow.expires_at)
            .where(WaiverRow.state == WaiverState.GRANTED.value)
            .order_by(WaiverRow.expires_at)
            .limit(1)
        )
        return found.scalar()
