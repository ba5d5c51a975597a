"""What every repository is: one aggregate's queries inside a unit of work."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, TypeVar

from sqlalchemy import ColumnElement, func, update
from sqlalchemy.dialects import postgresql, sqlite

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

    async def _insert_new(self, table: type[Base], unique: list[str], **values: Any) -> bool:
        """Insert a row unless one with the same UNIQUE columns exists (INSERT … ON CONFLICT
        DO NOTHING, on either database); True when this call inserted it."""
        make = postgresql.insert if self.uow.dialect == "postgresql" else sqlite.insert
        statement = make(table).values(**values).on_conflict_do_nothing(index_elements=unique)
        result = await self.session.execute(statement)
        return bool(result.rowcount)  # type: ignore[attr-defined]

    def _greatest(self, column: Any, value: Any) -> ColumnElement[Any]:
        """The larger of COLUMN and VALUE (SQLite's two-argument max, PostgreSQL's greatest)."""
        pick = func.greatest if self.uow.dialect == "postgresql" else func.max
        return pick(column, value)
