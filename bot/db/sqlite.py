"""SQLite connections whose statements run on the event loop unless they can wait.

aiosqlite runs every call in its connection's thread: a hop there and back costs ~10x
what one of this bot's statements costs SQLite (measured: ~140 µs of CPU against ~10), and
a sign-off is a dozen statements. In WAL mode most statements cannot wait: a read never
waits for a writer, and once `BEGIN IMMEDIATE` holds the write lock nothing in that
transaction waits either. Those run inline: a SELECT, a deferred BEGIN, and every
statement of a write transaction. What can wait stays in the thread, so the loop never
blocks on it: `BEGIN IMMEDIATE` (for the lock, up to busy_timeout), `COMMIT` (for fsync),
PRAGMAs, and a write outside a write transaction (migrations take the lock as they go).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

import aiosqlite

_INLINE = frozenset({"fetchone", "fetchmany", "fetchall", "close", "cursor"})


class InlineConnection(aiosqlite.Connection):
    """An aiosqlite connection that runs what cannot wait without a thread hop."""

    def __init__(self, connector: Callable[[], sqlite3.Connection]) -> None:
        super().__init__(connector, iter_chunk_size=64)
        self._thread.daemon = True  # as SQLAlchemy's dialect sets it for its own
        self._writing = False  # BEGIN IMMEDIATE holds the write lock until COMMIT/ROLLBACK

    async def _execute(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        name = getattr(fn, "__name__", "")
        if self._connection is not None and (
            name in _INLINE or (name in ("execute", "executemany") and self._inline(args))
        ):
            return fn(*args, **kwargs)
        result = await super()._execute(fn, *args, **kwargs)
        if name in ("execute", "commit", "rollback"):
            self._track(name, args)
        return result

    def _inline(self, args: tuple[Any, ...]) -> bool:
        statement = str(args[0]).lstrip()[:16].upper() if args else ""
        if statement.startswith(("COMMIT", "ROLLBACK", "BEGIN IMMEDIATE")):
            return False
        return self._writing or statement.startswith("SELECT") or statement == "BEGIN"

    def _track(self, name: str, args: tuple[Any, ...]) -> None:
        statement = str(args[0]).lstrip()[:16].upper() if args else name.upper()
        if statement.startswith("BEGIN IMMEDIATE"):
            self._writing = True
        elif statement.startswith(("COMMIT", "ROLLBACK")):
            self._writing = False


def connector(path: Path) -> Callable[[], Any]:
    """An `async_creator` for SQLAlchemy: a new inline connection to the file at PATH."""

    async def connect() -> aiosqlite.Connection:
        return await InlineConnection(partial(sqlite3.connect, path, check_same_thread=False))

    return connect
