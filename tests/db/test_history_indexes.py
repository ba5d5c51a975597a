"""The queries run on every delivery pass, card render and lookup by name read what they
need through an index, not every release or message there has ever been."""

from __future__ import annotations

import sqlite3
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event, text

from bot.db import Database
from bot.db.migrate import upgrade
from tests.databases import Databases

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
INDEXES = {
    "ix_outbox_unsent",
    "ix_releases_lower_name",
    "ix_releases_card_pending",
    "ix_alert_messages_unsent",
}


@pytest.fixture
async def db(tmp_path: Path, databases: Databases) -> AsyncIterator[Database]:
    database = Database(databases.url(tmp_path, "r.db"))
    await upgrade(database)
    yield database
    await database.close()


async def test_the_history_indexes_are_there(db: Database) -> None:
    listed = (
        "SELECT indexname FROM pg_indexes WHERE schemaname = current_schema()"
        if db.dialect == "postgresql"
        else "SELECT name FROM sqlite_master WHERE type = 'index'"
    )
    async with db.engine.connect() as connection:
        names = set((await connection.execute(text(listed))).scalars().all())
    assert names >= INDEXES


async def test_no_scan_of_history_where_an_index_answers(db: Database, tmp_path: Path) -> None:
    if db.dialect != "sqlite":
        pytest.skip("SQLite's query plans (PostgreSQL's depend on its statistics)")
    async with db.write() as uow:  # a few rows, so the plans are the planner's own choice
        for n in range(3):
            release = await uow.releases.add(f"R {n}", "C1", None, "U1", NOW, "v1", "p")
            await uow.releases.touch_card(release.id)
    ran: dict[str, Any] = {}

    def record(_c: Any, _cur: Any, statement: str, parameters: Any, _x: Any, many: bool) -> None:
        if not many and statement.lstrip().startswith("SELECT"):
            ran.setdefault(statement, parameters)

    event.listen(db.engine.sync_engine, "before_cursor_execute", record)
    try:
        async with db.read() as uow:
            await uow.releases.named("r 1")  # in any product
            await uow.releases.named("r 1", "p")
            await uow.releases.pending_cards()
            await uow.releases.pending_card_count()
            await uow.outbox.pending()
            await uow.outbox.pending_count()
            await uow.monitoring.pending_messages()
    finally:
        event.remove(db.engine.sync_engine, "before_cursor_execute", record)
    assert len(ran) == 7
    with sqlite3.connect(tmp_path / "r.db") as raw:
        for statement, parameters in ran.items():
            plan = [r[3] for r in raw.execute(f"EXPLAIN QUERY PLAN {statement}", parameters)]
            scans = [step for step in plan if step.startswith("SCAN") and " USING " not in step]
            assert not scans, (statement, plan)
