"""Which database the storage, services, reliability and scenario suites run on.

`pytest` runs them on SQLite files. `pytest --database postgresql` runs them on a real
PostgreSQL server (`.ci/postgres start DIR` prints one's URL; give it as
READINESS_TEST_POSTGRES_URL): each test gets a database of its own, dropped after.
Tests that need PostgreSQL itself (several replicas) are marked `postgresql` and skip,
saying why, where no server is given; CI gives one.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import os
import uuid
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import create_async_engine

SERVER = "READINESS_TEST_POSTGRES_URL"


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
