"""Alerts: a post-deploy item breaching, opened by its first failing run, closed by
recovery, answered by a responder (the domain's `Breach`)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select

from bot.db import rows
from bot.db.repository import Repository
from bot.db.tables import AlertRow
from bot.domain.monitoring import Breach


class MonitoringRepository(Repository):
    async def open_alert(self, release_id: int, item_id: str) -> Breach | None:
        row = await self.session.scalar(
            select(AlertRow).where(
                AlertRow.release_id == release_id,
                AlertRow.item_id == item_id,
                AlertRow.recovered_at.is_(None),
            )
        )
        return None if row is None else rows.breach(row)

    async def add_alert(
        self, release_id: int, item_id: str, phase: str, status: str, reason: str, now: datetime
    ) -> int:
        alert = AlertRow(
            release_id=release_id,
            item_id=item_id,
            phase=phase,
            status=status,
            reason=reason,
            opened_at=now,
        )
        return (await self._insert(alert)).id

    async def alert(self, alert_id: int) -> Breach | None:
        row = await self.session.get(AlertRow, alert_id)
        return None if row is None else rows.breach(row)

    async def recover(self, alert_id: int, now: datetime) -> None:
        await self._update(AlertRow, alert_id, recovered_at=now)

    async def answer(self, alert_id: int, user: str, now: datetime, rollback: bool) -> None:
        values = (
            {"rolled_back_by": user, "rolled_back_at": now}
            if rollback
            else {"acknowledged_by": user, "acknowledged_at": now}
        )
        await self._update(AlertRow, alert_id, **values)

    async def breaches(self, release_id: int) -> list[Breach]:
        found = await self.session.scalars(
            select(AlertRow).where(AlertRow.release_id == release_id).order_by(AlertRow.id)
        )
        return [rows.breach(row) for row in found.all()]

    async def breaching(self, release_id: int) -> tuple[str, ...]:
        """The items with an open alert, in the order they broke."""
        found = await self.session.scalars(
            select(AlertRow.item_id)
            .where(AlertRow.release_id == release_id, AlertRow.recovered_at.is_(None))
            .order_by(AlertRow.id)
        )
        return tuple(found.all())
