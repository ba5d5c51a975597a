"""`readiness audit verify` on a real file: a clean chain passes; an edit, a deletion or a
forged hash is caught and named, by the full walk (`--full`) always, and by the default
incremental walk when it is at or after the last verified checkpoint."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.db import Database
from bot.db.migrate import upgrade

ROOT = Path(__file__).resolve().parents[2]
# With no checkpoint yet, the default walk checks every event too.
MODES = pytest.mark.parametrize("flags", [(), ("--full",)], ids=["incremental", "full"])
T0 = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)


async def chain(path: Path, events: int = 5, first: int = 0) -> None:
    """EVENTS events of release "R 1" (opened with the first), numbered on from FIRST."""
    db = Database(f"sqlite+aiosqlite:///{path}")
    try:
        await upgrade(db)
        async with db.write() as uow:
            release = await uow.releases.by_name("R 1")
            if release is None:
                release = await uow.releases.add("R 1", "C1", None, "U1", T0, "v1")
            for n in range(first, first + events):
                at = T0 + timedelta(seconds=n)
                await uow.audit.append("signature.added", at, release.id, f"U{n}", role="eng", n=n)
    finally:
        await db.close()


def verify(path: Path, *flags: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bot", "audit", "verify", *flags],
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
    assert "(incremental, but no checkpoint yet: every event checked)" in done.stdout

    await chain(tmp_path / "r.db", events=2, first=5)
    done = verify(tmp_path / "r.db")  # on from the checkpoint the first walk recorded
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("audit log OK: 7 events, head ")
    assert "(incremental: 2 event(s) after the checkpoint at event 5 (verified " in done.stdout
    done = verify(tmp_path / "r.db", "--full")
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("audit log OK: 7 events, head ")
    assert "(full walk: every event checked, and every checkpoint against them)" in done.stdout


@MODES
async def test_an_edited_event_is_named(tmp_path: Path, flags: tuple[str, ...]) -> None:
    await chain(tmp_path / "r.db")
    tamper(tmp_path / "r.db", "UPDATE audit_events SET actor = 'UMALLORY' WHERE id = 3")
    done = verify(tmp_path / "r.db", *flags)
    assert done.returncode == 1
    assert "audit event 3 (signature.added at 2026-12-01T10:00:02+00:00)" in done.stderr
    assert "its content does not match its hash (edited)" in done.stderr


@MODES
async def test_a_deleted_or_reforged_event_breaks_the_chain(
    tmp_path: Path, flags: tuple[str, ...]
) -> None:
    await chain(tmp_path / "a.db")
    tamper(tmp_path / "a.db", "DELETE FROM audit_events WHERE id = 2")
    done = verify(tmp_path / "a.db", *flags)
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
    done = verify(tmp_path / "b.db", *flags)
    assert done.returncode == 1 and "audit event 5" in done.stderr


@MODES
async def test_event_data_that_is_no_longer_json_is_named(
    tmp_path: Path, flags: tuple[str, ...]
) -> None:
    await chain(tmp_path / "r.db")
    tamper(tmp_path / "r.db", "UPDATE audit_events SET data = '{broken' WHERE id = 2")
    done = verify(tmp_path / "r.db", *flags)
    assert done.returncode == 1 and "Traceback" not in done.stderr
    assert "audit event 2" in done.stderr and "its data is not JSON (edited)" in done.stderr


def test_not_a_readiness_database_is_said_plainly(tmp_path: Path) -> None:
    (tmp_path / "empty.db").touch()  # SQLite's empty database: no tables
    done = verify(tmp_path / "empty.db")
    assert done.returncode == 2 and "not a Readiness database" in done.stderr
    assert "Traceback" not in done.stderr


async def verified_then_more(path: Path) -> None:
    """Events 1-5 verified (a checkpoint at event 5), then events 6-8 appended."""
    await chain(path)
    assert verify(path).returncode == 0
    await chain(path, events=3, first=5)


async def test_an_edit_before_the_checkpoint_is_caught_by_the_full_walk(tmp_path: Path) -> None:
    await verified_then_more(tmp_path / "r.db")
    tamper(tmp_path / "r.db", "UPDATE audit_events SET actor = 'UMALLORY' WHERE id = 3")
    done = verify(tmp_path / "r.db")  # checks event 5's hash and events 6-8: not event 3
    assert done.returncode == 0, done.stderr
    assert "incremental: 3 event(s) after the checkpoint at event 5" in done.stdout
    done = verify(tmp_path / "r.db", "--full")
    assert done.returncode == 1
    assert "audit event 3 (signature.added at 2026-12-01T10:00:02+00:00)" in done.stderr
    assert "its content does not match its hash (edited)" in done.stderr
    assert "(full walk: every event checked" in done.stderr


async def test_an_edit_after_the_checkpoint_is_caught_by_both(tmp_path: Path) -> None:
    await verified_then_more(tmp_path / "r.db")
    tamper(tmp_path / "r.db", "UPDATE audit_events SET actor = 'UMALLORY' WHERE id = 7")
    for flags in ((), ("--full",)):
        done = verify(tmp_path / "r.db", *flags)
        assert done.returncode == 1, flags
        assert "audit event 7 (signature.added at 2026-12-01T10:00:06+00:00)" in done.stderr
        assert "its content does not match its hash (edited)" in done.stderr
    assert "(incremental: 0 event(s) after the checkpoint at event 5" not in done.stderr


def rewrite(path: Path, event_id: int, actor: str) -> None:
    """A forger's edit: EVENT_ID's actor changed, it and every event after it rehashed, so
    each event matches its hash and follows the one before it."""
    from bot.domain.audit import audit_hash

    tamper(path)
    with sqlite3.connect(path) as db:
        rows = db.execute(
            "SELECT id, at, release_id, actor, kind, data, prev_hash FROM audit_events "
            "WHERE id >= ? ORDER BY id",
            (event_id,),
        ).fetchall()
        previous = rows[0][6]
        for id_, at, release_id, old_actor, kind, data, _ in rows:
            who = actor if id_ == event_id else old_actor
            when = datetime.fromisoformat(at).replace(tzinfo=UTC)
            digest = audit_hash(previous, when, release_id, who, kind, json.loads(data))
            db.execute(
                "UPDATE audit_events SET actor = ?, prev_hash = ?, hash = ? WHERE id = ?",
                (who, previous, digest, id_),
            )
            previous = digest


@pytest.mark.parametrize("edited", [5, 3], ids=["the checkpoint's event", "one before it"])
async def test_a_rehashed_rewrite_under_a_checkpoint_is_caught_by_both(
    tmp_path: Path, edited: int
) -> None:
    # Every link holds after the rewrite: only the checkpoint remembers event 5's hash.
    await verified_then_more(tmp_path / "r.db")
    rewrite(tmp_path / "r.db", edited, "UMALLORY")
    for flags in ((), ("--full",)):
        done = verify(tmp_path / "r.db", *flags)
        assert done.returncode == 1, flags
        assert "audit event 5: its hash is not the one verified 2026-" in done.stderr
        assert "the log was rewritten from there, or the checkpoint edited" in done.stderr


async def test_a_log_cut_back_under_a_checkpoint_is_caught_by_both(tmp_path: Path) -> None:
    # The newest events deleted: what is left links up, but the checkpoint's event is gone.
    await verified_then_more(tmp_path / "r.db")
    tamper(tmp_path / "r.db", "DELETE FROM audit_events WHERE id >= 5")
    for flags in ((), ("--full",)):
        done = verify(tmp_path / "r.db", *flags)
        assert done.returncode == 1, flags
        assert "audit event 5, verified 2026-" in done.stderr
        assert "is no longer in the log (deleted, or the checkpoint edited)" in done.stderr
