"""`readiness db copy`: an installation built through the services on SQLite (releases opened,
checked, ticked, signed, rejected, approved, deployed and monitored; notices queued, marks,
jobs, leases) moves to PostgreSQL row for row, its audit chain verifies there with the same
head, new rows take new ids, and a database that is already in use is never merged into."""

from __future__ import annotations

import asyncio
import os
import sqlite3
import subprocess
import sys
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import JSON, func, select

from bot.config import load_settings
from bot.db import Database
from bot.db.copy import CopyRefused, copy_database, head_revision
from bot.db.migrate import upgrade
from bot.db.tables import AuditRow, Base, ReleaseRow
from bot.domain.authorization import DeploymentPlan
from bot.services.audit import verify_chain
from bot.services.container import Services
from bot.services.deps import Deps
from bot.services.reminders import ReminderService
from bot.services.tasks import TaskRunner
from tests.databases import Databases
from tests.services.conftest import (
    CHANNEL,
    ENV,
    ROOT,
    T0,
    FixedClock,
    Groups,
    enqueue_text,
    make_ready,
    sign_all_but_final,
)

# Its source is SQLite whatever --database says, its PostgreSQL targets made either way.
pytestmark = pytest.mark.sqlite(reason="copies from SQLite to both: the default pass runs it")
CLOSED = "http://127.0.0.1:9"  # the checks' target: nothing listens, every check fails fast
PLAN = DeploymentPlan(T0, T0 + timedelta(hours=2), ("UOPS", "UCTO"), "helm rollback lumines")
# Tables the installation below must fill, or the comparison proves little.
FILLED = {
    "releases",
    "item_ticks",
    "check_runs",
    "check_results",
    "signatures",
    "rejections",
    "outbox",
    "schedule_marks",
    "seen_events",
    "seen_requests",
    "jobs",
    "channel_leases",
    "audit_events",
}


def sqlite_url(path: Path) -> str:
    return f"sqlite+aiosqlite:///{path}"


async def build(url: str) -> None:
    """A used installation, made the way the bot makes one."""
    env = {**ENV, "DATABASE_URL": url, "TARGET_URL": CLOSED, "PROMETHEUS_URL": CLOSED}
    settings = load_settings(ROOT / "app.yaml", env=env)
    database = Database(url)
    await upgrade(database)
    clock = FixedClock(T0)
    async with httpx.AsyncClient() as http:
        deps = Deps(
            settings=settings,
            db=database,
            clock=clock,
            directory=Groups({"SPRODUCT": {"UGROUP"}}),
            http=http,
            tasks=TaskRunner(),
        )
        services = Services.build(deps)
        app = settings.app

        # Approved and deployed, then watched after the deploy (its checks fail: alerts).
        shipped = (await services.releases.open("LUMINES 1.0.0", "abc123", "UREL", CHANNEL)).release
        await deps.tasks.drain()
        await make_ready(deps, shipped.id)
        await sign_all_but_final(deps, shipped.id)
        clock.advance(minutes=5)
        await services.signoff.sign(
            shipped.id, "cto", "UCTO", app.roles["cto"].attestations, "ship it", PLAN
        )
        await services.deploy.mark_deployed(shipped.id, "UOPS")
        for _ in range(3):
            clock.advance(minutes=1)
            await services.monitor.tick(wait=True)

        # Ticked by hand, signed and withdrawn, rejected: blocked.
        blocked = (await services.releases.open("LUMINES 1.1.0", None, "UREL", CHANNEL)).release
        await deps.tasks.drain()
        for item in app.items:
            if not item.automated and item.owner is not None:
                owner = app.roles[item.owner].members[0]
                await services.signoff.set_ticks(blocked.id, owner, [item.id], [item.id])
        role = app.roles["engineering_lead"]
        await services.signoff.sign(blocked.id, "engineering_lead", "UENG", role.attestations, "ok")
        await services.signoff.withdraw(blocked.id, "UENG")
        await services.signoff.reject(blocked.id, "USEC", "pen test pending")

        cancelled = (await services.releases.open("LUMINES 0.9.0", None, "UREL", CHANNEL)).release
        await deps.tasks.drain()
        await services.releases.cancel(cancelled.id, "UREL")

        clock.advance(hours=1)
        await ReminderService(deps).daily()
        await enqueue_text(deps, blocked.id, "a message as an older version queued it", now=T0)
        async with deps.db.write() as uow:
            await uow.marks.first_delivery("Ev0001", clock.now())
            await uow.coordination.first_request("k" * 64, clock.now(), timedelta(minutes=5))
            await uow.coordination.schedule("recheck:LUMINES", T0 + timedelta(days=1))
            await uow.coordination.hold_channels("replica-a", [CHANNEL], 30)
        await deps.tasks.drain()
    assert (await verify_chain(database)).ok  # a verified head (a checkpoint) is copied too
    await database.close()


@pytest.fixture(scope="module")
def source(tmp_path_factory: pytest.TempPathFactory) -> str:
    """The SQLite installation; tests only read it."""
    url = sqlite_url(tmp_path_factory.mktemp("installation") / "readiness.db")
    asyncio.run(build(url))
    return url


async def contents(url: str) -> dict[str, list[tuple[Any, ...]]]:
    """Every table's rows as Python values, in primary-key order; a JSON column also says
    whether it holds SQL NULL (both that and JSON `null` read as None)."""
    database = Database(url)
    found: dict[str, list[tuple[Any, ...]]] = {}
    try:
        async with database.engine.connect() as connection:
            for table in Base.metadata.sorted_tables:
                nulls = [c.is_(None) for c in table.columns if isinstance(c.type, JSON)]
                query = select(table, *nulls).order_by(*table.primary_key.columns)
                found[table.name] = [tuple(row) for row in await connection.execute(query)]
    finally:
        await database.close()
    return found


async def chain(url: str) -> tuple[int, str]:
    database = Database(url)
    try:
        report = await verify_chain(database, full=True)
    finally:
        await database.close()
    assert report.ok, report.problem
    return report.events, report.head


def target_url(kind: str, databases: Databases, tmp_path: Path) -> str:
    return databases.new_postgresql() if kind == "postgresql" else sqlite_url(tmp_path / "to.db")


@pytest.mark.parametrize("kind", ["postgresql", "sqlite"])
async def test_every_row_arrives_and_the_chain_verifies_with_the_same_head(
    source: str, databases: Databases, tmp_path: Path, kind: str
) -> None:
    target = target_url(kind, databases, tmp_path)
    before = await contents(source)
    assert not {name for name in FILLED if not before[name]}, "the installation is too thin"
    head = await chain(source)

    counts = await copy_database(source, target, batch=3)  # many batches per table

    assert counts == {name: len(rows) for name, rows in before.items()}
    after = await contents(target)
    for name, rows in before.items():
        assert after[name] == rows, name
    assert await chain(target) == head


async def test_the_target_takes_new_releases_and_events_after_the_copy(
    source: str, databases: Databases
) -> None:
    target = databases.new_postgresql()
    await copy_database(source, target)
    events, _ = await chain(target)

    env = {**ENV, "DATABASE_URL": target, "TARGET_URL": CLOSED, "PROMETHEUS_URL": CLOSED}
    settings = load_settings(ROOT / "app.yaml", env=env)
    database = Database(target)
    try:
        async with database.read() as uow:
            top = (await uow.session.execute(select(func.max(ReleaseRow.id)))).scalar_one()
        async with httpx.AsyncClient() as http:
            deps = Deps(settings, database, FixedClock(T0), Groups({}), http, TaskRunner())
            opened = await Services.build(deps).releases.open(
                "LUMINES 2.0.0", None, "UREL", CHANNEL
            )
            await deps.tasks.drain()
        assert opened.release.id == top + 1  # the sequence was moved past the copied ids
        async with database.read() as uow:
            newest = await uow.session.scalar(select(func.max(AuditRow.id)))
            added = await uow.session.scalar(
                select(func.count()).select_from(AuditRow).where(AuditRow.id > events)
            )
        assert added and newest == events + added
    finally:
        await database.close()
    assert (await chain(target))[0] == events + added


async def test_a_target_in_use_is_refused_and_left_as_it_was(
    source: str, databases: Databases
) -> None:
    target = databases.new_postgresql()
    await copy_database(source, target)
    held = await contents(target)
    with pytest.raises(
        CopyRefused, match=r"already has \d+ \w+ rows; a copy goes into a new, empty"
    ):
        await copy_database(source, target)
    assert await contents(target) == held


async def test_a_source_that_is_not_a_whole_installation_is_refused(
    source: str, tmp_path: Path
) -> None:
    with pytest.raises(CopyRefused, match="the source and the target are one database"):
        await copy_database(source, source)

    sqlite3.connect(tmp_path / "empty.db").close()
    with pytest.raises(CopyRefused, match="has no Readiness schema"):
        await copy_database(sqlite_url(tmp_path / "empty.db"), sqlite_url(tmp_path / "a.db"))

    old = sqlite_url(tmp_path / "old.db")
    database = Database(old)
    await upgrade(database, "0005")
    await database.close()
    head = head_revision(old)
    with pytest.raises(CopyRefused) as refused:
        await copy_database(old, sqlite_url(tmp_path / "b.db"))
    assert f"revision 0005, the target will be at {head}" in str(refused.value)
    assert "run `readiness db upgrade` on the source first" in str(refused.value)
    assert not (tmp_path / "b.db").exists()  # refused before the target was touched


def readiness(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        env=os.environ.copy(),
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )


async def test_the_command_copies_says_the_counts_and_verifies(
    source: str, databases: Databases
) -> None:
    target = databases.new_postgresql()
    counts = {name: len(rows) for name, rows in (await contents(source)).items()}
    events, head = await chain(source)

    done = await asyncio.to_thread(readiness, "db", "copy", "--from", source, "--to", target)

    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    for name, rows in counts.items():
        assert any(line.split() == [name, str(rows), "rows"] for line in lines), (name, lines)
    assert f"copied {sum(counts.values())} rows in {len(counts)} tables" in lines
    assert lines[-1] == f"audit log OK: {events} events, head {head}"

    again = await asyncio.to_thread(readiness, "db", "copy", "--from", source, "--to", target)
    assert again.returncode == 2 and "Traceback" not in again.stderr
    assert again.stderr.startswith("refused: target: ") and "already has" in again.stderr
    bad = await asyncio.to_thread(readiness, "db", "copy", "--from", "garbage", "--to", target)
    assert bad.returncode == 2
    assert bad.stderr.startswith("--from: 'garbage' is not a database URL for Readiness")
