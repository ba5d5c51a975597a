"""The engine (SQLite through aiosqlite, or PostgreSQL through asyncpg) and the two kinds
of transaction, each a unit of work.

SQLite: reads use a deferred BEGIN (WAL readers never wait). Writes take `BEGIN
IMMEDIATE` behind one in-process lock: a read-then-write transaction that starts deferred
fails with "database is locked" under concurrency, whatever busy_timeout says.
`synchronous=FULL`: a commit is on disk before the user is told it happened, even across
a power cut.

PostgreSQL: any number of processes write at once, READ COMMITTED; what must not happen
twice is held by unique constraints, row locks and advisory locks (`UnitOfWork.serialise`),
never by a lock in one process's memory.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import event, text
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, create_async_engine

from bot.db import sqlite
from bot.db.uow import UnitOfWork
from bot.domain.errors import Conflict

PRAGMAS = (
    "PRAGMA journal_mode=WAL",
    "PRAGMA synchronous=FULL",
    "PRAGMA busy_timeout=10000",
    "PRAGMA foreign_keys=ON",
)


def sqlite_file(url: str) -> Path | None:
    """The file a SQLite URL names (None: in memory, or a `file:` URI left to SQLite)."""
    parsed = make_url(url)
    database = parsed.database
    if parsed.get_backend_name() != "sqlite":
        return None
    if not database or database == ":memory:" or database.startswith("file:"):
        return None
    return Path(database)


log = logging.getLogger(__name__)
OUTBOX_CHANNEL = "readiness_outbox"  # NOTIFY: something was queued for Slack
POSTGRESQL = "postgresql+asyncpg"
SQLITE = "sqlite+aiosqlite"


def dialect_of(url: str) -> str:
    return make_url(url).get_backend_name()


def make_engine(url: str) -> AsyncEngine:
    if dialect_of(url) == "postgresql":
        # A pool per process; a connection dropped by a failover is noticed before use.
        return create_async_engine(
            url,
            pool_size=10,
            max_overflow=20,
            pool_pre_ping=True,
            connect_args={"server_settings": {"timezone": "UTC"}},
        )
    path = sqlite_file(url)
    engine = (
        create_async_engine(url, async_creator=sqlite.connector(path))
        if path is not None and not make_url(url).query
        else create_async_engine(url)
    )

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


def unique_violation(exc: IntegrityError) -> bool:
    """A unique constraint (or index) refused the write: what the rules forbid twice."""
    cause = exc.orig
    return "UNIQUE constraint failed" in str(cause) or getattr(cause, "sqlstate", "") == "23505"


class Database:
    def __init__(self, url: str) -> None:
        self.url = url
        self.dialect = dialect_of(url)
        self.engine = make_engine(url)
        sqlite = self.dialect == "sqlite"
        self._writer = (
            self.engine.execution_options(sqlite_immediate=True) if sqlite else self.engine
        )
        # SQLite has one writer at a time: this process's writes queue here, not in SQLite.
        self._write_lock: asyncio.Lock | contextlib.nullcontext[None] = (
            asyncio.Lock() if sqlite else contextlib.nullcontext()
        )
        # Set when a committed transaction queued something for Slack; the sender waits on it.
        self.outbox_ready = asyncio.Event()
        # Set with it: what a card shows changed (the GitHub answerer waits on this one).
        self.changed = asyncio.Event()
        # The one product, when there is one: releases from before products are its own.
        self.legacy_product: str | None = None
        # The services' clock (`Deps` sets it): what a view's change freezes are as of.
        self.now: Callable[[], datetime] | None = None

    def _woken(self) -> None:
        """A commit queued something for Slack: wake this process's sender (on PostgreSQL
        the transaction also NOTIFYs every replica's: the one that holds the channel may
        be another)."""
        self.outbox_ready.set()
        self.changed.set()

    async def listen(self) -> None:
        """On PostgreSQL, until cancelled: another replica's commits wake this sender."""
        import asyncpg

        dsn = make_url(self.url).set(drivername="postgresql").render_as_string(False)
        delay = 1.0
        while True:
            try:
                connection = await asyncpg.connect(dsn)
                try:
                    await connection.add_listener(OUTBOX_CHANNEL, lambda *_: self._woken())
                    closed = asyncio.Event()
                    connection.add_termination_listener(lambda _, done=closed: done.set())
                    delay = 1.0
                    await closed.wait()
                finally:
                    await connection.close()
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.warning("listening for other replicas failed (%s); again in %.0fs", exc, delay)
            await asyncio.sleep(delay)
            delay = min(delay * 2, 60.0)

    @asynccontextmanager
    async def read(self) -> AsyncIterator[UnitOfWork]:
        async with AsyncSession(self.engine, expire_on_commit=False) as session:
            yield UnitOfWork(session, self._woken, self.legacy_product, self.dialect, now=self.now)

    @asynccontextmanager
    async def write(self) -> AsyncIterator[UnitOfWork]:
        """One write transaction: committed when the block ends, rolled back if it raises.
        A unique constraint refusing a write raises Conflict; after the commit, the unit
        of work's `on_commit` work runs."""
        async with self._write_lock:
            try:
                async with AsyncSession(self._writer, expire_on_commit=False) as session:
                    async with session.begin():
                        uow = UnitOfWork(
                            session,
                            self._woken,
                            self.legacy_product,
                            self.dialect,
                            writing=True,
                            now=self.now,
                        )
                        yield uow
                        await uow.audit.link()  # last: the chain's head is held to the commit
                        if uow.wakes and self.dialect == "postgresql":  # sent as it commits
                            await session.execute(text(f"NOTIFY {OUTBOX_CHANNEL}"))
            except IntegrityError as exc:
                if unique_violation(exc):
                    raise Conflict() from exc
                raise
        uow.committed()

    async def ping(self) -> bool:
        async with self.engine.connect() as connection:
            await connection.execute(text("SELECT 1"))
        return True

    async def close(self) -> None:
        await self.engine.dispose()
