"""`readiness audit verify` on a real database: a clean chain passes; an edit, a deletion or a
forged hash is caught and named, by the full walk (`--full`) always, and by the default
incremental walk when it is at or after the last verified checkpoint."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.db import Database
from bot.db.engine import dialect_of
from bot.db.migrate import upgrade
from tests.databases import Databases, sql

ROOT = Path(__file__).resolve().parents[2]
# With no checkpoint yet, the default walk checks every event too.
MODES = pytest.mark.parametrize("flags", [(), ("--full",)], ids=["incremental", "full"])
T0 = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)


@pytest.fixture
def url(databases: Databases, tmp_path: Path) -> str:
    return databases.url(tmp_path)


async def chain(url: str, events: int = 5, first: int = 0) -> None:
    """EVENTS events of release "R 1" (opened with the first), numbered on from FIRST."""
    db = Database(url)
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


def verify(url: str, *flags: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bot", "audit", "verify", *flags],
        env={**os.environ, "DATABASE_URL": url},
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )


def tamper(url: str, *statements: str) -> None:
    """What someone with the database's owner's rights could do: drop the guards, then edit."""
    on = " ON audit_events" if dialect_of(url) == "postgresql" else ""
    sql(url, f"DROP TRIGGER IF EXISTS audit_events_no_update{on}")
    sql(url, f"DROP TRIGGER IF EXISTS audit_events_no_delete{on}")
    for statement in statements:
        sql(url, statement)


def when(at: str | datetime) -> datetime:
    """An event's time as read: SQLite's text, or PostgreSQL's datetime."""
    return (at if isinstance(at, datetime) else datetime.fromisoformat(at)).replace(tzinfo=UTC)


async def test_an_untouched_chain_verifies(url: str) -> None:
    await chain(url)
    done = verify(url)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("audit log OK: 5 events, head ")
    assert "(incremental, but no checkpoint yet: every event checked)" in done.stdout

    await chain(url, events=2, first=5)
    done = verify(url)  # on from the checkpoint the first walk recorded
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("audit log OK: 7 events, head ")
    assert "(incremental: 2 event(s) after the checkpoint at event 5 (verified " in done.stdout
    done = verify(url, "--full")
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("audit log OK: 7 events, head ")
    assert "(full walk: every event checked, and every checkpoint against them)" in done.stdout


@MODES
async def test_an_edited_event_is_named(url: str, flags: tuple[str, ...]) -> None:
    await chain(url)
    tamper(url, "UPDATE audit_events SET actor = 'UMALLORY' WHERE id = 3")
    done = verify(url, *flags)
    assert done.returncode == 1
    assert "audit event 3 (signature.added at 2026-12-01T10:00:02+00:00)" in done.stderr
    assert "its content does not match its hash (edited)" in done.stderr


@MODES
async def test_a_deleted_or_reforged_event_breaks_the_chain(
    url: str, databases: Databases, tmp_path: Path, flags: tuple[str, ...]
) -> None:
    await chain(url)
    tamper(url, "DELETE FROM audit_events WHERE id = 2")
    done = verify(url, *flags)
    assert done.returncode == 1 and "audit event 3" in done.stderr
    assert "does not follow the event before it" in done.stderr

    other = databases.url(tmp_path, "b.db")
    await chain(other)
    # Editing an event and rewriting its own hash still breaks the next event's link.
    ((prev, at, release_id, kind),) = sql(
        other, "SELECT prev_hash, at, release_id, kind FROM audit_events WHERE id = 4"
    )
    from bot.domain.audit import audit_hash

    forged = audit_hash(
        prev,
        when(at),
        release_id,
        "UMALLORY",
        kind,
        {"role": "eng", "n": 3},
    )
    tamper(other, f"UPDATE audit_events SET actor = 'UMALLORY', hash = '{forged}' WHERE id = 4")
    done = verify(other, *flags)
    assert done.returncode == 1 and "audit event 5" in done.stderr


@MODES
@pytest.mark.sqlite(reason="PostgreSQL's json column refuses text that is not JSON")
async def test_event_data_that_is_no_longer_json_is_named(url: str, flags: tuple[str, ...]) -> None:
    await chain(url)
    tamper(url, "UPDATE audit_events SET data = '{broken' WHERE id = 2")
    done = verify(url, *flags)
    assert done.returncode == 1 and "Traceback" not in done.stderr
    assert "audit event 2" in done.stderr and "its data is not JSON (edited)" in done.stderr


def test_not_a_readiness_database_is_said_plainly(
    databases: Databases, tmp_path: Path, url: str
) -> None:
    if not databases.postgresql:
        (tmp_path / "readiness.db").touch()  # SQLite's empty database: no tables
    done = verify(url)  # a new database on PostgreSQL: no tables
    assert done.returncode == 2 and "not a Readiness database" in done.stderr
    assert "Traceback" not in done.stderr


async def verified_then_more(url: str) -> None:
    """Events 1-5 verified (a checkpoint at event 5), then events 6-8 appended."""
    await chain(url)
    assert verify(url).returncode == 0
    await chain(url, events=3, first=5)


async def test_an_edit_before_the_checkpoint_is_caught_by_the_full_walk(url: str) -> None:
    await verified_then_more(url)
    tamper(url, "UPDATE audit_events SET actor = 'UMALLORY' WHERE id = 3")
    done = verify(url)  # checks event 5's hash and events 6-8: not event 3
    assert done.returncode == 0, done.stderr
    assert "incremental: 3 event(s) after the checkpoint at event 5" in done.stdout
    done = verify(url, "--full")
    assert done.returncode == 1
    assert "audit event 3 (signature.added at 2026-12-01T10:00:02+00:00)" in done.stderr
    assert "its content does not match its hash (edited)" in done.stderr
    assert "(full walk: every event checked" in done.stderr


async def test_an_edit_after_the_checkpoint_is_caught_by_both(url: str) -> None:
    await verified_then_more(url)
    tamper(url, "UPDATE audit_events SET actor = 'UMALLORY' WHERE id = 7")
    for flags in ((), ("--full",)):
        done = verify(url, *flags)
        assert done.returncode == 1, flags
        assert "audit event 7 (signature.added at 2026-12-01T10:00:06+00:00)" in done.stderr
        assert "its content does not match its hash (edited)" in done.stderr
    assert "(incremental: 0 event(s) after the checkpoint at event 5" not in done.stderr


def rewrite(url: str, event_id: int, actor: str) -> None:
    """A forger's edit: EVENT_ID's actor changed, it and every event after it rehashed, so
    each event matches its hash and follows the one before it."""
    from bot.domain.audit import audit_hash

    tamper(url)
    rows = sql(
        url,
        "SELECT id, at, release_id, actor, kind, data, prev_hash FROM audit_events "
        "WHERE id >= :id ORDER BY id",
        id=event_id,
    )
    previous = rows[0][6]
    for id_, at, release_id, old_actor, kind, data, _ in rows:
        who = actor if id_ == event_id else old_actor
        digest = audit_hash(previous, when(at), release_id, who, kind, json.loads(data))
        sql(
            url,
            "UPDATE audit_events SET actor = :who, prev_hash = :prev, hash = :hash WHERE id = :id",
            who=who,
            prev=previous,
            hash=digest,
            id=id_,
        )
        previous = digest


@pytest.mark.parametrize("edited", [5, 3], ids=["the checkpoint's event", "one before it"])
async def test_a_rehashed_rewrite_under_a_checkpoint_is_caught_by_both(
    url: str, edited: int
) -> None:
    # Every link holds after the rewrite: only the checkpoint remembers event 5's hash.
    await verified_then_more(url)
    rewrite(url, edited, "UMALLORY")
    for flags in ((), ("--full",)):
        done = verify(url, *flags)
        assert done.returncode == 1, flags
        assert "audit event 5: its hash is not the one verified 2026-" in done.stderr
        assert "the log was rewritten from there, or the checkpoint edited" in done.stderr


async def test_a_log_cut_back_under_a_checkpoint_is_caught_by_both(url: str) -> None:
    # The newest events deleted: what is left links up, but the checkpoint's event is gone.
    await verified_then_more(url)
    tamper(url, "DELETE FROM audit_events WHERE id >= 5")
    for flags in ((), ("--full",)):
        done = verify(url, *flags)
        assert done.returncode == 1, flags
        assert "audit event 5, verified 2026-" in done.stderr
        assert "is no longer in the log (deleted, or the checkpoint edited)" in done.stderr
