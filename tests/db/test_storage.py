"""Storage on a real, migrated database: a SQLite file, or PostgreSQL (`--database`)."""

from __future__ import annotations

import asyncio
import warnings
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from bot.db import Database
from bot.db.migrate import upgrade
from bot.db.tables import Base
from bot.domain.audit import GENESIS, audit_hash
from bot.domain.errors import Conflict
from bot.domain.model import ReleaseState
from tests.databases import Databases

NOW = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)


@pytest.fixture
async def db(tmp_path: Path, databases: Databases):
    database = Database(databases.url(tmp_path, "r.db"))
    await upgrade(database)
    yield database
    await database.close()


async def test_migrations_produce_exactly_the_models_schema(db: Database) -> None:
    def diff(connection):  # type: ignore[no-untyped-def]
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        with warnings.catch_warnings():
            # SQLite's reflection can't read an expression index (`lower(name)`), so the
            # comparison leaves it out there; tests/db/test_history_indexes.py finds it used.
            warnings.filterwarnings("ignore", message=".*expression-based index")
            return compare_metadata(context, Base.metadata)

    async with db.engine.connect() as connection:
        assert await connection.run_sync(diff) == []


async def test_pragmas_are_set(db: Database) -> None:
    if db.dialect != "sqlite":
        pytest.skip("SQLite's pragmas")
    async with db.engine.connect() as connection:
        raw = await connection.get_raw_connection()
        cursor = await raw.driver_connection.execute("PRAGMA journal_mode")  # type: ignore[union-attr]
        assert (await cursor.fetchone())[0] == "wal"
        cursor = await raw.driver_connection.execute("PRAGMA foreign_keys")  # type: ignore[union-attr]
        assert (await cursor.fetchone())[0] == 1
        cursor = await raw.driver_connection.execute("PRAGMA synchronous")  # type: ignore[union-attr]
        assert (await cursor.fetchone())[0] == 2  # FULL


async def test_release_round_trip_and_live_name_is_unique(db: Database) -> None:
    async with db.write() as uow:
        release = await uow.releases.add("LUMINES 1.0.0", "C1", "abc", "U1", NOW, "v1")
    async with db.read() as uow:
        again = await uow.releases.by_name("lumines 1.0.0")
    assert again == release
    assert again.created_at == NOW and again.state is ReleaseState.OPEN
    with pytest.raises(Conflict):  # the unique index refuses it: a domain conflict
        async with db.write() as uow:
            await uow.releases.add("LUMINES 1.0.0", "C1", None, "U2", NOW, "v1")
    async with db.write() as uow:
        await uow.releases.set_state(release.id, ReleaseState.CANCELLED, NOW, closed_by="U1")
        await uow.releases.add("LUMINES 1.0.0", "C1", None, "U2", NOW, "v1")  # name is free


async def test_one_live_signature_per_person(db: Database) -> None:
    async with db.write() as uow:
        release = await uow.releases.add("R", "C1", None, "U1", NOW, "v1")
        first = await uow.signatures.add(release.id, "eng", "U2", ["a"], None, {"x": 1}, NOW)
    with pytest.raises(Conflict):
        async with db.write() as uow:
            await uow.signatures.add(release.id, "ops", "U2", [], None, {}, NOW)
    async with db.write() as uow:
        await uow.signatures.withdraw(first.id, NOW)
        await uow.signatures.add(release.id, "ops", "U2", [], "again", {}, NOW)
    async with db.read() as uow:
        live = await uow.signatures.live(release.id)
    assert [(s.role_id, s.comment) for s in live] == [("ops", "again")]


async def test_a_failed_transaction_writes_nothing(db: Database) -> None:
    with pytest.raises(RuntimeError):
        async with db.write() as uow:
            release = await uow.releases.add("R", "C1", None, "U1", NOW, "v1")
            await uow.audit.append("release.opened", NOW, release.id, "U1")
            raise RuntimeError("crash mid-transaction")
    async with db.read() as uow:
        assert await uow.releases.by_name("R") is None
        assert await uow.audit.events() == []


async def test_latest_results_keep_history(db: Database) -> None:
    async with db.write() as uow:
        release = await uow.releases.add("R", "C1", None, "U1", NOW, "v1")
        run = await uow.checks.start_run(release.id, "test", None, 2, NOW)
        await uow.checks.add_result(release.id, run, "health", "fail", "503", {}, 1.0, NOW)
        await uow.checks.add_result(release.id, run, "health", "pass", "200", {}, 1.0, NOW)
        await uow.checks.add_result(release.id, run, "headers", "error", "refused", {}, 1.0, NOW)
    async with db.read() as uow:
        latest = await uow.checks.latest_results(release.id)
        progress = await uow.checks.latest_run(release.id)
    assert {k: v.reason for k, v in latest.items()} == {"health": "200", "headers": "refused"}
    assert progress is not None and (progress.done, progress.total) == (3, 2)


async def test_a_result_knows_since_when_its_item_has_had_that_status(db: Database) -> None:
    later = [NOW + timedelta(minutes=m) for m in range(4)]
    async with db.write() as uow:
        release = await uow.releases.add("R", "C1", None, "U1", NOW, "v1")
        for at, status in zip(later, ["pass", "fail", "fail", "fail"], strict=True):
            await uow.checks.add_result(release.id, None, "health", status, status, {}, 1.0, at)
    async with db.read() as uow:
        latest = (await uow.checks.latest_results(release.id))["health"]
    assert (latest.at, latest.changed_at) == (later[3], later[1])


async def test_upgrading_a_database_with_results_fills_changed_at(tmp_path: Path) -> None:
    database = Database(f"sqlite+aiosqlite:///{tmp_path / 'old.db'}")
    try:
        await upgrade(database, "0001")
        async with database.write() as uow:
            await uow.session.execute(
                text(
                    "INSERT INTO releases (id, name, channel, state, created_by, created_at, "
                    "updated_at, config_version) VALUES (1, 'R', 'C1', 'open', 'U1', "
                    ":at, :at, 'v1')"
                ),
                {"at": NOW.isoformat()},
            )
            await uow.session.execute(
                text(
                    'INSERT INTO check_results (release_id, item_id, status, reason, "values", '
                    "duration_ms, finished_at) VALUES (1, 'health', 'pass', 'ok', '{}', 1, :at)"
                ),
                {"at": NOW.isoformat()},
            )
        await upgrade(database)
        async with database.read() as uow:
            latest = (await uow.checks.latest_results(1))["health"]
        assert latest.changed_at == latest.at == NOW
    finally:
        await database.close()


async def test_audit_log_is_a_hash_chain_and_append_only(db: Database, tmp_path: Path) -> None:
    async with db.write() as uow:
        release = await uow.releases.add("R", "C1", None, "U1", NOW, "v1")
        await uow.audit.append("release.opened", NOW, release.id, "U1", name="R")
        await uow.audit.append("signature.added", NOW, release.id, "U2", role="eng")
    async with db.read() as uow:
        events = await uow.audit.events(release.id)
    first, second = (e.hash for e in events)
    assert (
        audit_hash(GENESIS, events[0].at, release.id, "U1", "release.opened", events[0].data)
        == first
    )
    assert events[0].prev_hash == GENESIS and events[1].prev_hash == first
    assert (
        audit_hash(first, events[1].at, release.id, "U2", "signature.added", events[1].data)
        == second
    )
    for statement in ("UPDATE audit_events SET actor = 'U9'", "DELETE FROM audit_events"):
        with pytest.raises(DBAPIError, match="append-only"):
            async with db.write() as uow:
                await uow.session.execute(text(statement))


async def test_concurrent_read_then_write_transactions_never_lock(tmp_path: Path) -> None:
    """Two Database objects (as two processes would) on one file, 40 writers at once."""
    url = f"sqlite+aiosqlite:///{tmp_path / 'c.db'}"
    one, two = Database(url), Database(url)
    await upgrade(one)
    async with one.write() as uow:
        release = await uow.releases.add("R", "C1", None, "U1", NOW, "v1")

    async def sign(database: Database, n: int) -> None:
        async with database.write() as uow:
            await uow.signatures.live(release.id)  # read, then write: the deadlock-prone shape
            await uow.signatures.add(release.id, "eng", f"U{n}", [], None, {}, NOW)
            await uow.audit.append("signature.added", NOW, release.id, f"U{n}")

    await asyncio.gather(*(sign(one if n % 2 else two, n) for n in range(40)))
    async with one.read() as uow:
        assert len(await uow.signatures.live(release.id)) == 40
        assert len(await uow.audit.events(release.id)) == 40
    await one.close()
    await two.close()


def test_the_database_file_of_a_url() -> None:
    from bot.db.engine import sqlite_file

    assert sqlite_file("sqlite+aiosqlite:///r.db") == Path("r.db")
    assert sqlite_file("sqlite+aiosqlite:////var/lib/r.db") == Path("/var/lib/r.db")
    assert sqlite_file("sqlite+aiosqlite://") is None
    assert sqlite_file("sqlite+aiosqlite:///:memory:") is None
    assert sqlite_file("sqlite+aiosqlite:///file:/tmp/r.db?mode=rwc&uri=true") is None
