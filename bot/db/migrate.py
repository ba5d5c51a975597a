"""Bring the schema up to date with Alembic, on the application's own engine.

A database already at the newest migration (every start but the first) is told so by one
query, without loading Alembic: importing it took a tenth of `serve`'s start-up."""

from __future__ import annotations

from importlib.resources import files
from typing import TYPE_CHECKING

from sqlalchemy import inspect, text
from sqlalchemy.engine import Connection

from bot.db.engine import Database

if TYPE_CHECKING:
    from alembic.config import Config

MIGRATING = 0x72656164_6D696772  # the advisory lock key of a schema upgrade ("readmigr")


def alembic_config(url: str) -> Config:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(files("migrations")))
    config.set_main_option("sqlalchemy.url", url)
    return config


def newest_revision() -> str:
    """The newest migration's revision, read from the names of the files: each is named
    after its revision (0007_history_indexes.py is "0007"; tests/db/test_migrate.py holds
    Alembic's head to this)."""
    names = (entry.name for entry in files("migrations").joinpath("versions").iterdir())
    return max(name[:4] for name in names if name[:4].isdigit())


def _at_newest(connection: Connection) -> bool:
    """The database is at the newest revision (Alembic records it in alembic_version)."""
    if not inspect(connection).has_table("alembic_version"):
        return False
    stored = connection.execute(text("SELECT version_num FROM alembic_version")).scalars()
    return list(stored) == [newest_revision()]


async def upgrade(db: Database, revision: str = "head") -> None:
    def run(connection: Connection) -> None:
        if revision == "head" and _at_newest(connection):
            return
        from alembic import command

        config = alembic_config(db.url)
        config.attributes["connection"] = connection
        command.upgrade(config, revision)

    async with db.engine.begin() as connection:
        if db.dialect == "postgresql":  # replicas starting together migrate one at a time
            await connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATING})
        await connection.run_sync(run)
