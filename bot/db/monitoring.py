"""Queries for what happens after sign-off: once-only marks, post-deploy runs and alerts."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, func, select, update
from sqlalchemy.dialects.sqlite import insert
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.tables import (
    AlertRow,
    CheckResultRow,
    CheckRunRow,
    MarkRow,
    OutboxRow,
    ReleaseRow,
    SeenEventRow,
)
from bot.domain.model import ItemStatus, ReleaseState
from bot.domain.monitoring import Breach, Observation

MONITORED = (ReleaseState.DEPLOYED.value, ReleaseState.MONITORING.value)


class MonitoringQueries:
    session: AsyncSession

    async def mark(
        self,
        release_id: int,
        key: str,
        due_at: datetime,
        now: datetime,
        late: bool = False,
        data: dict[str, Any] | None = None,
    ) -> bool:
        """Record that `key` is done for this release; False when it already was.

        Call it in the transaction that queues the work: the unique key makes the
        decision and the work one atomic step, across restarts and concurrent ticks.
        """
        result = await self.session.execute(
            insert(MarkRow)
            .values(
                release_id=release_id,
                key=key,
                due_at=due_at,
                done_at=now,
                late=late,
                data=data or {},
            )
            .on_conflict_do_nothing(index_elements=["release_id", "key"])
        )
        return bool(result.rowcount)  # type: ignore[attr-defined]

    async def marks(self, release_id: int, prefix: str = "") -> dict[str, MarkRow]:
        rows = await self.session.scalars(
            select(MarkRow).where(MarkRow.release_id == release_id, MarkRow.key.startswith(prefix))
        )
        return {row.key: row for row in rows.all()}

    async def first_delivery(self, event_id: str, now: datetime) -> bool:
        """Record an Events API delivery; False when this event was handled already.
        Entries older than a day are forgotten (Slack retries within minutes)."""
        await self.session.execute(
            delete(SeenEventRow).where(SeenEventRow.received_at < now - timedelta(days=1))
        )
        result = await self.session.execute(
            insert(SeenEventRow)
            .values(event_id=event_id, received_at=now)
            .on_conflict_do_nothing(index_elements=["event_id"])
        )
        return bool(result.rowcount)  # type: ignore[attr-defined]

    async def count_by_state(self) -> dict[str, int]:
        rows = await self.session.execute(
            select(ReleaseRow.state, func.count()).group_by(ReleaseRow.state)
        )
        return {state: int(n) for state, n in rows.all()}

    async def count_pending(self) -> dict[str, int]:
        """What still has to reach Slack: thread/channel messages and card versions."""
        messages = await self.session.scalar(
            select(func.count()).select_from(OutboxRow).where(OutboxRow.sent_at.is_(None))
        )
        cards = await self.session.scalar(
            select(func.count())
            .select_from(ReleaseRow)
            .where(ReleaseRow.card_version > ReleaseRow.card_sent_version)
        )
        return {"message": int(messages or 0), "card": int(cards or 0)}

    # --- deployment and post-deploy runs ----------------------------------------------------

    async def set_deployed(self, release_id: int, user: str, now: datetime) -> None:
        await self.session.execute(
            update(ReleaseRow)
            .where(ReleaseRow.id == release_id)
            .values(
                state=ReleaseState.DEPLOYED.value,
                deployed_at=now,
                deployed_by=user,
                updated_at=now,
                card_version=ReleaseRow.card_version + 1,
            )
        )

    async def monitored(self) -> list[int]:
        """Releases deployed and not done: their phases are running."""
        rows = await self.session.scalars(
            select(ReleaseRow.id).where(ReleaseRow.state.in_(MONITORED)).order_by(ReleaseRow.id)
        )
        return list(rows.all())

    async def start_phase_run(self, release_id: int, phase: str, total: int, now: datetime) -> int:
        run = CheckRunRow(
            release_id=release_id,
            trigger="monitor",
            actor=None,
            started_at=now,
            total=total,
            done=0,
            phase=phase,
        )
        self.session.add(run)
        await self.session.flush()
        return run.id

    async def observations(
        self, release_id: int, item_ids: list[str], since: datetime
    ) -> list[Observation]:
        rows = await self.session.scalars(
            select(CheckResultRow)
            .where(
                CheckResultRow.release_id == release_id,
                CheckResultRow.item_id.in_(item_ids),
                CheckResultRow.finished_at >= since,
            )
            .order_by(CheckResultRow.id)
        )
        return [
            Observation(r.item_id, ItemStatus(r.status), r.reason, r.values, r.finished_at)
            for r in rows.all()
        ]

    # --- alerts -----------------------------------------------------------------------------

    async def open_alert(self, release_id: int, item_id: str) -> AlertRow | None:
        return await self.session.scalar(
            select(AlertRow).where(
                AlertRow.release_id == release_id,
                AlertRow.item_id == item_id,
                AlertRow.recovered_at.is_(None),
            )
        )

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
        self.session.add(alert)
        await self.session.flush()
        return alert.id

    async def alert(self, alert_id: int) -> AlertRow | None:
        return await self.session.get(AlertRow, alert_id)

    async def recover_alert(self, alert_id: int, now: datetime) -> None:
        await self.session.execute(
            update(AlertRow).where(AlertRow.id == alert_id).values(recovered_at=now)
        )

    async def answer_alert(self, alert_id: int, user: str, now: datetime, rollback: bool) -> None:
        values = (
            {"rolled_back_by": user, "rolled_back_at": now}
            if rollback
            else {"acknowledged_by": user, "acknowledged_at": now}
        )
        await self.session.execute(update(AlertRow).where(AlertRow.id == alert_id).values(**values))

    async def breaches(self, release_id: int) -> list[Breach]:
        rows = await self.session.scalars(
            select(AlertRow).where(AlertRow.release_id == release_id).order_by(AlertRow.id)
        )
        return [
            Breach(
                r.item_id,
                r.opened_at,
                r.reason,
                r.recovered_at,
                r.acknowledged_by,
                r.rolled_back_by,
            )
            for r in rows.all()
        ]
