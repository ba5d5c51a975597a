"""The checklist's evidence: check runs and their results, and manual items ticked."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, delete, func, select, update

from bot.db import rows
from bot.db.repository import Repository, columns
from bot.db.tables import CheckResultRow, CheckRunRow, TickRow
from bot.domain.model import CheckRunProgress, ItemStatus, LatestResult, Tick
from bot.domain.monitoring import Observation

# Read on every view: built once (building and keying a statement costs more than SQLite
# takes to run it).
_LATEST_RUN = (
    select(CheckRunRow.total, CheckRunRow.done, CheckRunRow.finished_at)
    .where(CheckRunRow.release_id == bindparam("release"), CheckRunRow.phase.is_(None))
    .order_by(CheckRunRow.id.desc())
    .limit(1)
)
_LATEST_RESULTS = select(
    CheckResultRow.item_id,
    CheckResultRow.status,
    CheckResultRow.reason,
    CheckResultRow.finished_at,
    CheckResultRow.duration_ms,
    CheckResultRow.changed_at,
    CheckResultRow.values,
).where(
    CheckResultRow.id.in_(
        select(func.max(CheckResultRow.id))
        .where(CheckResultRow.release_id == bindparam("release"))
        .group_by(CheckResultRow.item_id)
    )
)
_TICKS = select(TickRow.item_id, TickRow.user_id, TickRow.ticked_at).where(
    TickRow.release_id == bindparam("release")
)


class CheckRepository(Repository):
    # --- runs -------------------------------------------------------------------------------

    async def start_run(
        self,
        release_id: int,
        trigger: str,
        actor: str | None,
        total: int,
        now: datetime,
        phase: str | None = None,
    ) -> int:
        """A run of the checklist, or (with PHASE) of a post-deploy phase's items."""
        run = CheckRunRow(
            release_id=release_id,
            trigger=trigger,
            actor=actor,
            started_at=now,
            total=total,
            done=0,
            phase=phase,
        )
        return (await self._insert(run)).id

    async def finish_run(self, run_id: int, now: datetime) -> None:
        """The run is over; its card must drop the progress line."""
        release_id = await self.session.scalar(
            update(CheckRunRow)
            .where(CheckRunRow.id == run_id)
            .values(finished_at=now)
            .returning(CheckRunRow.release_id)
        )
        if release_id is not None:
            await self.uow.releases.touch_card(release_id)

    async def latest_run(self, release_id: int) -> CheckRunProgress | None:
        """The checklist's latest run (post-deploy runs are monitoring, shown apart)."""
        row = (await self.session.execute(_LATEST_RUN, {"release": release_id})).first()
        if row is None:
            return None
        return CheckRunProgress(row.total, row.done, row.finished_at is not None)

    # --- results ----------------------------------------------------------------------------

    async def add_result(
        self,
        release_id: int,
        run_id: int | None,
        item_id: str,
        status: str,
        reason: str,
        values: dict[str, Any],
        duration_ms: float,
        now: datetime,
    ) -> LatestResult:
        """Record a result (of a run, or pushed by CI when RUN_ID is None); returns it as
        the item's latest result, with since when it has had this status."""
        previous = (
            await self.session.execute(
                select(CheckResultRow.status, CheckResultRow.changed_at)
                .where(CheckResultRow.release_id == release_id, CheckResultRow.item_id == item_id)
                .order_by(CheckResultRow.id.desc())
                .limit(1)
            )
        ).first()
        changed_at = previous.changed_at if previous and previous.status == status else now
        await self._insert(
            CheckResultRow(
                release_id=release_id,
                run_id=run_id,
                item_id=item_id,
                status=status,
                reason=reason,
                values=values,
                duration_ms=duration_ms,
                finished_at=now,
                changed_at=changed_at,
            )
        )
        if run_id is not None:
            await self.session.execute(
                update(CheckRunRow)
                .where(CheckRunRow.id == run_id)
                .values(done=CheckRunRow.done + 1)
            )
        return LatestResult(
            item_id, ItemStatus(status), reason, now, duration_ms, changed_at, rows.link(values)
        )

    async def latest_results(self, release_id: int) -> dict[str, LatestResult]:
        found = await self.session.execute(_LATEST_RESULTS, {"release": release_id})
        return {
            r.item_id: LatestResult(
                r.item_id,
                ItemStatus(r.status),
                r.reason,
                r.finished_at,
                r.duration_ms,
                r.changed_at,
                rows.link(r.values),
            )
            for r in found.all()
        }

    async def observations(
        self, release_id: int, item_ids: list[str], since: datetime
    ) -> list[Observation]:
        """Post-deploy results of these items since a moment, oldest first."""
        found = await self.session.execute(
            select(*columns(CheckResultRow))
            .where(
                CheckResultRow.release_id == release_id,
                CheckResultRow.item_id.in_(item_ids),
                CheckResultRow.finished_at >= since,
            )
            .order_by(CheckResultRow.id)
        )
        return [
            Observation(r.item_id, ItemStatus(r.status), r.reason, r.values, r.finished_at)
            for r in found.all()
        ]

    # --- manual items -----------------------------------------------------------------------

    async def ticks(self, release_id: int) -> dict[str, Tick]:
        found = await self.session.execute(_TICKS, {"release": release_id})
        return {r.item_id: Tick(r.item_id, r.user_id, r.ticked_at) for r in found.all()}

    async def tick(self, release_id: int, item_id: str, user_id: str, now: datetime) -> Tick:
        await self._insert(
            TickRow(release_id=release_id, item_id=item_id, user_id=user_id, ticked_at=now)
        )
        return Tick(item_id, user_id, now)

    async def untick(self, release_id: int, item_id: str) -> None:
        await self.session.execute(
            delete(TickRow).where(TickRow.release_id == release_id, TickRow.item_id == item_id)
        )
