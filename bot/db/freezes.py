"""The exceptions granted to releases to deploy during a change freeze."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import bindparam, select

from bot.db.repository import Repository, columns
from bot.db.tables_freezes import FreezeExceptionRow
from bot.domain.freezes import ChangeFreeze, FreezeException

_OF = (  # read with every view of a release
    select(*columns(FreezeExceptionRow))
    .where(FreezeExceptionRow.release_id == bindparam("release"))
    .order_by(FreezeExceptionRow.id)
)


class FreezeRepository(Repository):
    async def exceptions(self, release_id: int) -> tuple[FreezeException, ...]:
        found = await self.session.execute(_OF, {"release": release_id})
        return tuple(
            FreezeException(
                r.freeze_id, r.freeze_ends_at, r.granted_by, r.reason, r.granted_at, r.freeze_title
            )
            for r in found.all()
        )

    async def grant(
        self,
        release_id: int,
        hold: ChangeFreeze,
        user: str,
        reason: str,
        now: datetime,
    ) -> FreezeException:
        """Record the exception (a second one for the same occurrence raises Conflict)."""
        await self._insert(
            FreezeExceptionRow(
                release_id=release_id,
                freeze_id=hold.freeze_id,
                freeze_title=hold.title,
                freeze_ends_at=hold.until,
                granted_by=user,
                reason=reason,
                granted_at=now,
            )
        )
        return FreezeException(hold.freeze_id, hold.until, user, reason, now, hold.title)
