"""What every repository is: one aggregate's queries inside a unit of work."""

from __future__ import annotations

import functools
from datetime import timedelta
from typing import TYPE_CHECKING, Any, TypeVar, cast

from sqlalchemy import Column, ColumnElement, Insert, Table, func, insert, update
from sqlalchemy.dialects import postgresql, sqlite

from bot.db.tables import Base

if TYPE_CHECKING:
    from bot.db.uow import UnitOfWork

R = TypeVar("R", bound=Base)


def table(model: type[Base] | Base) -> Table:
    return cast(Table, model.__table__)


def columns(model: type[Base]) -> list[Column[Any]]:
    """MODEL's columns, to select rows as plain rows (attributes named as the model's)."""
    return list(table(model).columns)


@functools.cache
def _inserting(core: Table) -> Insert:
    """INSERT INTO CORE … RETURNING every column, built once per table (its values given
    when it runs)."""
    return insert(core).returning(*core.columns)


class Repository:
    """Statements go to the database as Core: one INSERT, UPDATE or SELECT per call, rows
    read as plain rows. The ORM's unit-of-work flush and identity map cost more than the
    statement itself on the sign-off path, and nothing here needs them."""

    def __init__(self, uow: UnitOfWork) -> None:
        self.uow, self.session = uow, uow.session

    async def _insert(self, row: R) -> R:
        """Insert ROW (INSERT … RETURNING) and fill it in as stored: its id, its defaults.
        A unique index refusing it raises."""
        if self.session.new:  # rows added through the session go first, in order
            await self.session.flush()
        core = table(row)
        values = {c.key: row.__dict__[c.key] for c in core.columns if c.key in row.__dict__}
        stored = (await self.session.execute(_inserting(core), values)).one()
        for key, value in stored._mapping.items():
            setattr(row, str(key), value)
        return row

    async def _update(self, model: type[Base], row_id: int, **values: Any) -> None:
        """Set VALUES on the row of MODEL's table whose id is ROW_ID."""
        core = table(model)
        await self.session.execute(update(core).where(core.c.id == row_id).values(**values))

    async def _insert_new(self, table: type[Base], unique: list[str], **values: Any) -> bool:
        """Insert a row unless one with the same UNIQUE columns exists (INSERT … ON CONFLICT
        DO NOTHING, on either database); True when this call inserted it."""
        make = postgresql.insert if self.uow.dialect == "postgresql" else sqlite.insert
        statement = make(table).values(**values).on_conflict_do_nothing(index_elements=unique)
        result = await self.session.execute(statement)
        return bool(result.rowcount)  # type: ignore[attr-defined]

    def _now(self) -> ColumnElement[Any]:
        """The database's clock: leases are reckoned on it, never a replica's."""
        if self.uow.dialect == "postgresql":
            return func.now()
        return func.strftime("%Y-%m-%d %H:%M:%f", "now")  # as UTCDateTime stores it

    def _later(self, seconds: float) -> ColumnElement[Any]:
        if self.uow.dialect == "postgresql":
            return func.now() + timedelta(seconds=seconds)
        return func.strftime("%Y-%m-%d %H:%M:%f", "now", f"+{seconds:.3f} seconds")

    def _greatest(self, column: Any, value: Any) -> ColumnElement[Any]:
        """The larger of COLUMN and VALUE (SQLite's two-argument max, PostgreSQL's greatest)."""
        pick = func.greatest if self.uow.dialect == "postgresql" else func.max
        return pick(column, value)
