"""Alerts: a post-deploy item breaching (the domain's `Breach`), opened by its first
failing run, closed by recovery; and the one message per breach that lists them, edited in
place and answered once by a responder (`AlertMessage`)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select, update

from bot.db import rows
from bot.db.outbox import ALERT, EditedMessages
from bot.db.repository import columns
from bot.db.tables import AlertMessageRow, AlertRow
from bot.domain.monitoring import AlertMessage, Breach, Decision


def _decision(user: str | None, at: datetime | None) -> Decision | None:
    return Decision(user, at) if user and at else None


class MonitoringRepository(EditedMessages):
    MESSAGES, KIND = AlertMessageRow, ALERT

    async def open_alert(self, release_id: int, item_id: str) -> Breach | None:
        found = await self.session.execute(
            select(*columns(AlertRow)).where(
                AlertRow.release_id == release_id,
                AlertRow.item_id == item_id,
                AlertRow.recovered_at.is_(None),
            )
        )
        row = found.first()
        return None if row is None else rows.breach(row)

    async def add_alert(
        self,
        release_id: int,
        item_id: str,
        phase: str,
        status: str,
        reason: str,
        now: datetime,
        message_id: int | None = None,
    ) -> int:
        alert = AlertRow(
            release_id=release_id,
            item_id=item_id,
            phase=phase,
            status=status,
            reason=reason,
            opened_at=now,
            message_id=message_id,
        )
        return (await self._insert(alert)).id

    async def alert(self, alert_id: int) -> Breach | None:
        found = await self.session.execute(
            select(*columns(AlertRow)).where(AlertRow.id == alert_id)
        )
        row = found.first()
        return None if row is None else rows.breach(row)

    async def recover(self, alert_id: int, now: datetime) -> None:
        await self._update(AlertRow, alert_id, recovered_at=now)

    async def answer(self, alert_id: int, user: str, now: datetime, rollback: bool) -> None:
        await self._update(AlertRow, alert_id, **_answered(user, now, rollback))

    async def breaches(self, release_id: int) -> list[Breach]:
        found = await self.session.execute(
            select(*columns(AlertRow))
            .where(AlertRow.release_id == release_id)
            .order_by(AlertRow.id)
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

    # --- the breach's message ---------------------------------------------------------------

    async def open_message(self, release_id: int) -> AlertMessage | None:
        """The release's breach still open (some item still failing), if any."""
        message_id = await self.session.scalar(
            select(AlertMessageRow.id).where(
                AlertMessageRow.release_id == release_id, AlertMessageRow.closed_at.is_(None)
            )
        )
        return None if message_id is None else await self.message(message_id)

    async def add_message(
        self, release_id: int, phase: str, responders: list[str], now: datetime
    ) -> int:
        row = AlertMessageRow(
            release_id=release_id, phase=phase, responders=responders, opened_at=now
        )
        return (await self._insert(row)).id

    async def message(self, message_id: int) -> AlertMessage | None:
        row = (
            await self.session.execute(
                select(*columns(AlertMessageRow)).where(AlertMessageRow.id == message_id)
            )
        ).first()
        if row is None:
            return None
        found = await self.session.execute(
            select(*columns(AlertRow))
            .where(AlertRow.message_id == message_id)
            .order_by(AlertRow.id)
        )
        return AlertMessage(
            id=row.id,
            release_id=row.release_id,
            phase=row.phase,
            responders=tuple(row.responders),
            opened_at=row.opened_at,
            breaches=tuple(rows.breach(alert) for alert in found.all()),
            closed_at=row.closed_at,
            acknowledged=_decision(row.acknowledged_by, row.acknowledged_at),
            rolled_back=_decision(row.rolled_back_by, row.rolled_back_at),
        )

    async def message_version(self, message_id: int) -> int:
        version = await self.session.scalar(
            select(AlertMessageRow.version).where(AlertMessageRow.id == message_id)
        )
        return int(version or 0)

    async def touch_message(self, message_id: int) -> None:
        """The message must show what changed: a new version for the sender to send."""
        await self._update(AlertMessageRow, message_id, version=AlertMessageRow.version + 1)
        self.uow.outbox_changed()

    async def close_message(self, message_id: int, now: datetime) -> None:
        await self._update(AlertMessageRow, message_id, closed_at=now)
        await self.touch_message(message_id)

    async def answer_message(
        self, message_id: int, user: str, now: datetime, rollback: bool
    ) -> None:
        """Acknowledge the breach, or record the decision to roll back: on the message and
        on each of its alerts (what the digests and the export list)."""
        values = _answered(user, now, rollback)
        await self._update(AlertMessageRow, message_id, **values)
        await self.session.execute(
            update(AlertRow).where(AlertRow.message_id == message_id).values(**values)
        )
        await self.touch_message(message_id)

    async def rollback(self, release_id: int) -> Decision | None:
        """The release's decision to roll back, if one was taken (the newest)."""
        found = (
            await self.session.execute(
                select(AlertMessageRow.rolled_back_by, AlertMessageRow.rolled_back_at)
                .where(
                    AlertMessageRow.release_id == release_id,
                    AlertMessageRow.rolled_back_by.is_not(None),
                )
                .order_by(AlertMessageRow.rolled_back_at.desc())
                .limit(1)
            )
        ).first()
        return None if found is None else _decision(found[0], found[1])


def _answered(user: str, now: datetime, rollback: bool) -> dict[str, Any]:
    if rollback:
        return {"rolled_back_by": user, "rolled_back_at": now}
    return {"acknowledged_by": user, "acknowledged_at": now}
