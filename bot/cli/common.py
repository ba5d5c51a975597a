"""What the commands share: saying a problem and exiting, the settings, the database."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Awaitable, Callable, Coroutine
from typing import TYPE_CHECKING, Any, NoReturn, TypeVar

import click

from bot.config import ConfigError, Settings, load_environment, load_settings

if TYPE_CHECKING:
    from bot.db import Database

CONFIG_HELP = "Config file, or directory of products (default: $READINESS_CONFIG)."
T = TypeVar("T")


def fail(problems: list[str], code: int = 2) -> NoReturn:
    """Print each problem on stderr, one line each, and exit (2: bad usage or config)."""
    for problem in problems:
        click.echo(problem, err=True)
    sys.exit(code)


def settings(config: str | None) -> Settings:
    try:
        return load_settings(config)
    except ConfigError as exc:
        fail(exc.problems)


def database_url() -> str:
    try:
        return load_environment().database_url
    except ConfigError as exc:
        fail(exc.problems)


def _not_ours(url: str, exc: Exception) -> str:
    cause = getattr(exc, "orig", exc)
    return f"{url}: not a Readiness database ({cause}); `readiness db upgrade` makes one"


def unusable(url: str, exc: Exception) -> str:
    """What a database error at open or migration time means, in one line."""
    cause = getattr(exc, "orig", None) or exc
    # SQLite's "no such table", PostgreSQL's undefined_table: no schema of ours there.
    if "no such table" in str(cause) or getattr(cause, "sqlstate", None) == "42P01":
        return _not_ours(url, exc)
    return f"environment: DATABASE_URL: cannot use {url}: {cause}"


def openable(url: str) -> None:
    """A SQLite file that can't be opened (its directory is missing, or it is a directory)
    is said before SQLite is asked: a failed open leaves aiosqlite's thread behind, to
    complain at exit."""
    from bot.db.engine import sqlite_file

    path = sqlite_file(url)
    if path is None:
        return
    why = None
    if path.is_dir():
        why = f"{path} is a directory"
    elif not path.parent.is_dir():
        why = f"there is no directory {path.parent}"
    if why:
        fail([f"environment: DATABASE_URL: cannot use {url}: unable to open database file ({why})"])


def existing(url: str) -> None:
    """Commands that only read refuse a database file that isn't there (SQLite would
    create an empty one, and they would report on nothing)."""
    from bot.db.engine import sqlite_file

    openable(url)
    path = sqlite_file(url)
    if path is not None and not path.exists():
        fail(
            [
                f"environment: DATABASE_URL: no database at {path}; "
                "`readiness db upgrade` (or `readiness serve`) makes one"
            ]
        )


def run_on_database(url: str, work: Coroutine[Any, Any, T]) -> T:
    """Run WORK, saying a database error in one line (exit 2), never a traceback."""
    from sqlalchemy.exc import DatabaseError

    try:
        return asyncio.run(work)
    except DatabaseError as exc:
        fail([unusable(url, exc)])


def on_database(work: Callable[[Database, str], Awaitable[None]], create: bool = False) -> None:
    """Run `work` on the database $DATABASE_URL names, closing it whatever happens."""
    url = database_url()
    if create:
        openable(url)
    else:
        existing(url)

    from bot.db import Database

    async def run() -> None:
        database = Database(url)
        try:
            await work(database, url)
        finally:
            await database.close()

    run_on_database(url, run())


def seconds(_: click.Context, param: click.Parameter, value: str) -> float:
    """A --timeout or --interval written as a duration (30s, 10m)."""
    from checks.durations import parse_duration

    try:
        return parse_duration(value).total_seconds()
    except ValueError as exc:
        raise click.BadParameter(str(exc), param=param) from None
