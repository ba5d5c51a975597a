"""`readiness audit verify` on a real file: a clean chain passes; an edit, a deletion or a
forged hash is caught and named."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bot.db import Database
from bot.db.migrate import upgrade

ROOT = Path(__file__).resolve().parents[2]
T0 = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)


async def chain(path: Path, events: int = 5) -> None:
    db = Database(f"sqlite+aiosqlite:///{path}")
    try:
        await upgrade(db)
        async with db.write() as uow:
            release = await uow.releases.add("R 1", "C1", None, "U1", T0, "v1")
            for n in range(events):
                at = T0 + timedelta(seconds=n)
                await uow.audit.append("signature.added", at, release.id, f"U{n}", role="eng", n=n)
    finally:
        await db.close()


def verify(path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bot", "audit", "verify"],
        env={**os.environ, "DATABASE_URL": f"sqlite+aiosqlite:///{path}"},
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )


def tamper(path: Path, *statements: str) -> None:
    """What someone with the file could do: drop the guards, then edit."""
    with sqlite3.connect(path) as db:
        db.execute("DROP TRIGGER audit_events_no_update")
        db.execute("DROP TRIGGER audit_events_no_delete")
        for statement in statements:
            db.execute(statement)


async def test_an_untouched_chain_verifies(tmp_path: Path) -> None:
    await chain(tmp_path / "r.db")
    done = verify(tmp_path / "r.db")
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("audit log OK: 5 events, head ")


async def test_an_edited_event_is_named(tmp_path: Path) -> None:
    await chain(tmp_path / "r.db")
    tamper(tmp_path / "r.db", "UPDATE audit_events SET actor = 'UMALLORY' WHERE id = 3")
    done = verify(tmp_path / "r.db")
    assert done.returncode == 1
    assert "audit event 3 (signature.added at 2026-12-01T10:00:02+00:00)" in done.stderr
    assert "its content does not match its hash (edited)" in done.stderr


async def test_a_deleted_or_reforged_event_breaks_the_chain(tmp_path: Path) -> None:
    await chain(tmp_path / "a.db")
    tamper(tmp_path / "a.db", "DELETE FROM audit_events WHERE id = 2")
    done = verify(tmp_path / "a.db")
    assert done.returncode == 1 and "audit event 3" in done.stderr
    assert "does not follow the event before it" in done.stderr

    await chain(tmp_path / "b.db")
    # Editing an event and rewriting its own hash still breaks the next event's link.
    with sqlite3.connect(tmp_path / "b.db") as db:
        row = db.execute("SELECT prev_hash, at, release_id, kind FROM audit_events WHERE id = 4")
        prev, at, release_id, kind = row.fetchone()
    from bot.domain.audit import audit_hash

    forged = audit_hash(
        prev,
        datetime.fromisoformat(at).replace(tzinfo=UTC),
        release_id,
        "UMALLORY",
        kind,
        {"role": "eng", "n": 3},
    )
    tamper(
        tmp_path / "b.db",
        f"UPDATE audit_events SET actor = 'UMALLORY', hash = '{forged}' WHERE id = 4",
    )
    done = verify(tmp_path / "b.db")
    assert done.returncode == 1 and "audit event 5" in done.stderr


async def test_event_data_that_is_no_longer_json_is_named(tmp_path: Path) -> None:
    await chain(tmp_path / "r.db")
    tamper(tmp_path / "r.db", "UPDATE audit_events SET data = '{broken' WHERE id = 2")
    done = verify(tmp_path / "r.db")
    assert done.returncode == 1 and "Traceback" not in done.stderr
    assert "audit event 2" in done.stderr and "its data is not JSON (edited)" in done.stderr


def test_not_a_readiness_database_is_said_plainly(tmp_path: Path) -> None:
    (tmp_path / "empty.db").touch()  # SQLite's empty database: no tables
    done = verify(tmp_path / "empty.db")
    assert done.returncode == 2 and "not a Readiness database" in done.stderr
    assert "Traceback" not in done.stderr
