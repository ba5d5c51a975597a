"""Moving an installation to another database (SQLite to PostgreSQL, or back): every table
of the schema, rows and primary keys as they are, in one transaction on the target.

The target is migrated to head first and must hold no releases and no audit events (a
copy never merges into a live database); the source must be at head too, so both have the
same tables and columns. Rows are read through the tables' own types (times come back
aware UTC, JSON as Python values) and written through them, so each database stores them
its own way. On PostgreSQL each integer `id`'s sequence is moved past the copied rows.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import JSON, Integer, Table, func, insert, null, select
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.db.engine import Database, sqlite_file
from bot.db.migrate import alembic_config, upgrade
from bot.db.tables import AuditRow, Base, ReleaseRow

# The tables a live installation has rows in: a target holding any is refused.
LIVE = (
    Base.metadata.tables[ReleaseRow.__tablename__],
    Base.metadata.tables[AuditRow.__tablename__],
)
IS_NULL = "_sql_null_"  # the label of a JSON column's "stored as SQL NULL" flag


class CopyRefused(Exception):
    """Why the copy was not started (or was undone), in one line."""


def shown(url: str) -> str:
    """A URL as messages name it: without its password."""
    return make_url(url).render_as_string(hide_password=True)


def same_database(a: str, b: str) -> bool:
    ua, ub = make_url(a), make_url(b)
    if ua.get_backend_name() != ub.get_backend_name():
        return False
    if ua.get_backend_name() == "sqlite":
        fa, fb = sqlite_file(a), sqlite_file(b)
        if fa is None or fb is None:
            return ua.database == ub.database
        return fa.resolve() == fb.resolve()
    return (ua.host or "localhost", ua.port or 5432, ua.database) == (
        ub.host or "localhost",
        ub.port or 5432,
        ub.database,
    )


def head_revision(url: str) -> str | None:
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(alembic_config(url)).get_current_head()


def _revision(connection: Connection) -> str | None:
    from alembic.runtime.migration import MigrationContext

    return MigrationContext.configure(connection).get_current_revision()


def _integer_id(table: Table) -> bool:
    columns = list(table.primary_key.columns)
    return len(columns) == 1 and columns[0].name == "id" and isinstance(columns[0].type, Integer)


async def _count(connection: AsyncConnection, table: Table) -> int:
    return int((await connection.execute(select(func.count()).select_from(table))).scalar_one())


async def _copy_table(
    source: AsyncConnection, target: AsyncConnection, table: Table, batch: int
) -> int:
    """Every row of TABLE, in primary-key order, BATCH at a time. A JSON column's SQL NULL
    stays SQL NULL (its type would otherwise write Python's None as JSON `null`)."""
    json = [c for c in table.columns if isinstance(c.type, JSON)]
    flags = [c.is_(None).label(f"{IS_NULL}{c.name}") for c in json]
    query = (
        select(table, *flags)
        .order_by(*table.primary_key.columns)
        .execution_options(yield_per=batch)
    )
    copied = 0
    result = await source.stream(query)
    async for rows in result.partitions(batch):
        values: list[dict[str, Any]] = []
        for row in rows:
            mapping = row._mapping
            value = {c.name: mapping[c] for c in table.columns}
            for column in json:
                if mapping[f"{IS_NULL}{column.name}"]:
                    value[column.name] = null()
            values.append(value)
        try:
            await target.execute(insert(table), values)
        except IntegrityError as exc:
            raise CopyRefused(
                f"target: {table.name}: a copied row collides with one already there "
                f"({str(exc.orig).splitlines()[0]}); copy into a new, empty database"
            ) from exc
        copied += len(values)
    return copied


async def _reset_sequences(target: AsyncConnection, tables: list[Table]) -> None:
    """Move each integer `id`'s sequence to the largest copied id: new rows don't collide."""
    for table in tables:
        if not _integer_id(table):
            continue
        top = func.max(table.c.id)
        await target.execute(
            select(
                func.setval(
                    func.pg_get_serial_sequence(table.name, "id"),
                    func.coalesce(top, 1),
                    top.is_not(None),  # empty: the next id is 1
                )
            ).select_from(table)
        )


async def copy_database(source_url: str, target_url: str, batch: int = 1000) -> dict[str, int]:
    """Copy the installation SOURCE_URL holds into TARGET_URL; the rows copied per table.
    Raises CopyRefused when the copy can't or mustn't be made: no row is copied (a target
    refused for its rows may have been migrated first)."""
    if same_database(source_url, target_url):
        raise CopyRefused(f"{shown(source_url)}: the source and the target are one database")
    path = sqlite_file(source_url)
    if path is not None and not path.is_file():
        raise CopyRefused(f"source: no database at {path}")
    head = head_revision(source_url)
    source, target = Database(source_url), Database(target_url)
    try:
        async with source.engine.connect() as reading:
            if source.dialect == "postgresql":  # one snapshot of every table
                await reading.execution_options(isolation_level="REPEATABLE READ")
            revision = await reading.run_sync(_revision)
            if revision is None:
                raise CopyRefused(
                    f"source: {shown(source_url)} has no Readiness schema to copy "
                    "(`readiness db upgrade` makes one)"
                )
            if revision != head:
                raise CopyRefused(
                    f"source: {shown(source_url)} is at revision {revision}, the target will "
                    f"be at {head}: run `readiness db upgrade` on the source first"
                )
            await _upgrade(target)
            writer = target.engine
            if target.dialect == "sqlite":
                writer = writer.execution_options(sqlite_immediate=True)
            async with writer.begin() as writing:
                for table in LIVE:
                    rows = await _count(writing, table)
                    if rows:
                        raise CopyRefused(
                            f"target: {shown(target_url)} already has {rows} {table.name} "
                            "rows; a copy goes into a new, empty database, never a live one"
                        )
                tables = list(Base.metadata.sorted_tables)
                counts = {t.name: await _copy_table(reading, writing, t, batch) for t in tables}
                if target.dialect == "postgresql":
                    await _reset_sequences(writing, tables)
        return counts
    finally:
        await source.close()
        await target.close()


async def _upgrade(target: Database) -> None:
    from alembic.util import CommandError

    try:
        await upgrade(target)
    except CommandError as exc:  # e.g. a revision this version of Readiness doesn't know
        raise CopyRefused(f"target: {shown(target.url)}: {exc}") from exc


def describe(counts: dict[str, int]) -> list[str]:
    """One line per table: what `readiness db copy` prints."""
    width = max((len(name) for name in counts), default=0)
    return [f"{name:<{width}}  {rows} rows" for name, rows in counts.items()]


__all__ = ["CopyRefused", "copy_database", "describe", "same_database", "shown"]
