"""Queries for section 10's record: the deployment window, team and rollback plan."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.tables import ReleaseRow
from bot.domain.authorization import DeploymentPlan


class AuthorizationQueries:
    session: AsyncSession

    async def record_plan(self, release_id: int, plan: DeploymentPlan, now: datetime) -> None:
        """Store the final approver's record; call it in the transaction that signs."""
        await self.session.execute(
            update(ReleaseRow)
            .where(ReleaseRow.id == release_id)
            .values(
                window_start=plan.window_start,
                window_end=plan.window_end,
                deploy_team=list(plan.team),
                rollback_plan=plan.rollback_plan,
                updated_at=now,
            )
        )

    async def plan_window(
        self, release_id: int, start: datetime, end: datetime, now: datetime
    ) -> None:
        """A window planned when the release is opened (the final approver may change it)."""
        await self.session.execute(
            update(ReleaseRow)
            .where(ReleaseRow.id == release_id)
            .values(window_start=start, window_end=end, updated_at=now)
        )

    async def previous_rollback_plan(self, channel: str, before_release_id: int) -> str | None:
        """The rollback plan last recorded on an earlier release of this channel."""
        return (
            await self.session.scalars(
                select(ReleaseRow.rollback_plan)
                .where(
                    ReleaseRow.channel == channel,
                    ReleaseRow.id < before_release_id,
                    ReleaseRow.rollback_plan.is_not(None),
                    ReleaseRow.rollback_plan != "",
                )
                .order_by(ReleaseRow.id.desc())
                .limit(1)
            )
        ).first()
