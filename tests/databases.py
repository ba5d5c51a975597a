"""Which database the storage, services, reliability and scenario suites run on.

`pytest` runs them on SQLite files. `pytest --database postgresql` runs them on a real
PostgreSQL server (`.ci/postgres start DIR` prints one's URL; give it as
READINESS_TEST_POSTGRES_URL): each test (or module, for a bot it shares) gets a database
of its own, dropped after.
Tests that need PostgreSQL itself (several replicas) are marked `postgresql` and skip,
saying why, where no server is given; CI gives one. Tests about SQLite itself are marked
`sqlite` and skip under `--database postgresql`. `sql(url, ...)` reads (or edits) either
kind from a synchronous test, as the bot's subprocess left it.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import os
import threading
import uuid
from collections.abc import Coroutine
from pathlib import Path
from typing import Any, TypeVar

import pytest
from sqlalchemy import Row, text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from sqlalchemy.pool import NullPool

SERVER = "READINESS_TEST_POSTGRES_URL"
T = TypeVar("T")


def server_url() -> str | None:
    return os.environ.get(SERVER) or None


async def _run(url: str, statement: str) -> None:
    engine = create_async_engine(url, isolation_level="AUTOCOMMIT")
    try:
        async with engine.connect() as connection:
            await connection.execute(text(statement))
    finally:
        await engine.dispose()


def _admin(url: str, statement: str) -> None:
    """Run STATEMENT on the server, from any thread (async fixtures call this in a loop)."""
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        pool.submit(asyncio.run, _run(url, statement)).result()


def create_database(server: str) -> str:
    """A new, empty database on SERVER; its URL."""
    name = f"t_{uuid.uuid4().hex[:16]}"
    _admin(server, f'CREATE DATABASE "{name}"')
    return make_url(server).set(database=name).render_as_string(hide_password=False)


def drop_database(server: str, url: str) -> None:
    name = make_url(url).database
    _admin(server, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


class Databases:
    """Hands out database URLs of the kind the run asked for."""

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self.made: list[str] = []

    @property
    def postgresql(self) -> bool:
        return self.kind == "postgresql"

    def url(self, tmp: Path, name: str = "readiness.db") -> str:
        if not self.postgresql:
            return f"sqlite+aiosqlite:///{tmp / name}"
        return self.new_postgresql()

    def new_postgresql(self) -> str:
        server = server_url()
        if server is None:
            pytest.skip(f"no PostgreSQL server: set {SERVER} (.ci/postgres start DIR prints one)")
        url = create_database(server)
        self.made.append(url)
        return url

    def drop(self) -> None:
        server = server_url()
        while self.made and server is not None:
            drop_database(server, self.made.pop())


class Reader:
    """Runs SQL on any database URL for a test that runs synchronously (a test or helper
    reading what the bot, a subprocess, wrote): SQLAlchemy's async engines on an event loop
    of their own, in a thread. One engine per URL, NullPool: no connection stays open
    between statements, so none holds SQLite's lock or keeps a database from being
    dropped. Write SQL both dialects read (`:name` parameters); JSON columns read as their
    text on both, timestamps as SQLite's text or PostgreSQL's datetime."""

    def __init__(self) -> None:
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._engines: dict[str, AsyncEngine] = {}
        self._lock = threading.Lock()

    def _run(self, work: Coroutine[Any, Any, T]) -> T:
        with self._lock:
            if self._loop is None:
                self._loop = asyncio.new_event_loop()
                self._thread = threading.Thread(
                    target=self._loop.run_forever, name="tests-sql", daemon=True
                )
                self._thread.start()
            loop = self._loop
        return asyncio.run_coroutine_threadsafe(work, loop).result(60)

    def _engine(self, url: str) -> AsyncEngine:
        if url not in self._engines:
            # JSON as stored, its text, on both (asyncpg's codec would decode it).
            self._engines[url] = create_async_engine(
                url, poolclass=NullPool, json_deserializer=lambda stored: stored
            )
        return self._engines[url]

    def sql(self, url: str, statement: str, **params: Any) -> list[Row[Any]]:
        """STATEMENT's rows (none if it returns none), in a transaction of its own."""

        async def run() -> list[Row[Any]]:
            async with self._engine(url).begin() as connection:
                result = await connection.execute(text(statement), params)
                return list(result.all()) if result.returns_rows else []

        return self._run(run())

    def columns(self, url: str, table: str) -> set[str]:
        """TABLE's column names (what a query of it answers: no reflection, which warns of
        the indexes it can't read)."""

        async def run() -> set[str]:
            async with self._engine(url).connect() as connection:
                result = await connection.execute(text(f"SELECT * FROM {table} WHERE 1 = 0"))
                return set(result.keys())

        return self._run(run())

    def close(self) -> None:
        loop, thread = self._loop, self._thread
        if loop is None or thread is None:
            return

        async def dispose() -> None:
            for engine in self._engines.values():
                await engine.dispose()

        self._run(dispose())
        self._engines.clear()
        loop.call_soon_threadsafe(loop.stop)
        thread.join(10)
        loop.close()
        self._loop = self._thread = None


READER = Reader()
sql = READER.sql
columns = READER.columns
