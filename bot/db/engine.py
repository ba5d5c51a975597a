"""The engine, SQLite's pragmas, and the two kinds of transaction.

Reads use a deferred BEGIN (WAL readers never wait). Writes take `BEGIN IMMEDIATE`
behind one in-process lock: a read-then-write transaction that starts deferred fails
with "database is locked" under concurrency, whatever busy_timeout says.
`synchronous=FULL`: a commit is on disk before the user is told it happened, even
across a power cut.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import event, text
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, create_async_engine

from bot.db.repo import Repo

PRAGMAS = (
    "PRAGMA journal_mode=WAL",
    "PRAGMA synchronous=FULL",
    "PRAGMA busy_timeout=10000",
    "PRAGMA foreign_keys=ON",
)


def sqlite_file(url: str) -> Path | None:
    """The file a SQLite URL names (None: in memory, or a `file:` URI left to SQLite)."""
    database = make_url(url).database
    if not database or database == ":memory:" or database.startswith("file:"):
        return None
    return Path(database)


def make_engine(url: str) -> AsyncEngine:
    engine = create_async_engine(url)

    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # we emit BEGIN ourselves, below
        cursor = dbapi_connection.cursor()
        for pragma in PRAGMAS:
            cursor.execute(pragma)
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(connection: Connection) -> None:
        immediate = connection.get_execution_options().get("sqlite_immediate", False)
        connection.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")

    return engine


class Database:
    def __init__(self, url: str) -> None:
        self.url = url
        self.engine = make_engine(url)
        self._writer = self.engine.execution_options(sqlite_immediate=True)
        self._write_lock = asyncio.Lock()

    @asynccontextmanager
    async def read(self) -> AsyncIterator[Repo]:
        async with AsyncSession(self.engine, expire_on_commit=False) as session:
            yield Repo(session)

    @asynccontextmanager
    async def write(self) -> AsyncIterator[Repo]:
        """One write transaction: committed when the block ends, rolled back if it raises."""
        async with self._write_lock, AsyncSession(self._writer, expire_on_commit=False) as session:
            async with session.begin():
                yield Repo(session)

    async def ping(self) -> bool:
        async with self.engine.connect() as connection:
            await connection.execute(text("SELECT 1"))
        return True

    async def close(self) -> None:
        await self.engine.dispose()
