"""What every repository is: one aggregate's queries inside a unit of work."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, TypeVar

from sqlalchemy import update

from bot.db.tables import Base

if TYPE_CHECKING:
    from bot.db.uow import UnitOfWork

R = TypeVar("R", bound=Base)


class Repository:
    def __init__(self, uow: UnitOfWork) -> None:
        self.uow, self.session = uow, uow.session

    async def _insert(self, row: R) -> R:
        """Add ROW and flush it, so it has its id (a unique index refusing it raises)."""
        self.session.add(row)
        await self.session.flush()
        return row

    async def _update(self, table: type[Base], row_id: int, **values: Any) -> None:
        """Set VALUES on the row of TABLE whose id is ROW_ID."""
        key = table.__table__.c.id
        await self.session.execute(update(table).where(key == row_id).values(**values))
