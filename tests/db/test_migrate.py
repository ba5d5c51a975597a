"""Upgrading: a database at the newest migration is left as it is without loading Alembic
(every start but the first); one behind is migrated by Alembic as before."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from alembic.script import ScriptDirectory

from bot.db.migrate import alembic_config, newest_revision
from tests.databases import Databases

ROOT = Path(__file__).resolve().parents[2]
UPGRADE = """
import asyncio, sys
from sqlalchemy import text
from bot.db import Database
from bot.db.migrate import upgrade

async def main(url, revision):
    db = Database(url)
    try:
        await upgrade(db, revision)
        async with db.engine.connect() as connection:
            at = await connection.execute(text("SELECT version_num FROM alembic_version"))
            return at.scalar()
    finally:
        await db.close()

at = asyncio.run(main(sys.argv[1], sys.argv[2]))
print(at, "alembic loaded" if "alembic" in sys.modules else "alembic not loaded")
"""


def upgrade_in_a_new_process(url: str, revision: str = "head") -> str:
    """Upgrade URL to REVISION in a fresh interpreter: "REVISION-NOW-AT alembic [not] loaded"."""
    done = subprocess.run(
        [sys.executable, "-c", UPGRADE, url, revision],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def test_the_newest_revision_named_by_the_files_is_alembics_head() -> None:
    head = ScriptDirectory.from_config(alembic_config("sqlite://")).get_current_head()
    assert newest_revision() == head


def test_only_a_database_behind_the_newest_migration_loads_alembic(
    tmp_path: Path, databases: Databases
) -> None:
    newest = newest_revision()
    url = databases.url(tmp_path)
    assert upgrade_in_a_new_process(url) == f"{newest} alembic loaded"  # every migration
    assert upgrade_in_a_new_process(url) == f"{newest} alembic not loaded"

    older = databases.url(tmp_path, "older.db")
    assert upgrade_in_a_new_process(older, "0006") == "0006 alembic loaded"
    assert upgrade_in_a_new_process(older) == f"{newest} alembic loaded"
