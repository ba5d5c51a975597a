"""Reply times as history grows: each surface with 10, 1,000 and 10,000 releases stored.

    cd /work/main && .venv/bin/python bench/history.py [--sizes 10,1000,10000] [--plans]

Each database has the real schema (migrated by `bot.db.migrate.upgrade`) and that many
releases of the shipped checklist (app.yaml: 110 items, 40 automated). All but the newest
three are history: done (every tenth cancelled), each with 20 check runs of the 40
automated items, its 70 manual items ticked, five signatures and section 10, then three
post-deploy phases with their runs, a breach acknowledged and recovered, the digests, and
every message sent. The newest three are being signed now. One history release is written
through the repositories and services; the others are copied from it in SQL (its rows as
stored), and their audit events are hashed and chained in Python as
`AuditRepository.append` would chain them. Then one `audit verify` runs, as it has on a bot
that has been exporting: the timed runs find the chain as a running bot does.

Each surface is timed through the services (what Slack, the API and the CLI call): the
fastest of repeated runs after a warm-up, as a ratio to the 10-release database: the
status of a release named, the list, a Checklist, a Home tab, the export of one (history)
release, the audit chain's verification (incremental: 5 events appended since the last
check; and the full walk), the outbox scan for unsent messages, the cards to bring up to
date, and the pending counts /metrics reads. The export and the incremental verify each
follow 5 new events. Each database is timed after `gc.freeze()`, as `serve` runs. Then, on
the largest database, how a full walk shares the event loop: status replies one after
another (p50, max) and the loop's longest stall while `verify_chain(full=True)` runs.

`--plans` prints SQLite's query plan of each distinct statement the surfaces ran that scans
a table (EXPLAIN QUERY PLAN, on the largest database). SQLite only. Speed is measured,
never asserted: exits 0.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import os
import platform
import sqlite3
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402
from sqlalchemy import event, insert, update  # noqa: E402

from bot.config import Settings, load_settings  # noqa: E402
from bot.db import Database  # noqa: E402
from bot.db.migrate import upgrade  # noqa: E402
from bot.db.tables import AlertMessageRow, AuditRow, Base, OutboxRow, ReleaseRow  # noqa: E402
from bot.domain.audit import audit_hash  # noqa: E402
from bot.domain.model import ItemStatus, ReleaseState  # noqa: E402
from bot.domain.monitoring import (  # noqa: E402
    Observation,
    breach_alert,
    digest,
    digest_notice,
    run_key,
    timeline,
)
from bot.domain.notices import AlertAnswered, Deployed, MonitoringComplete, PhasePlan  # noqa: E402
from bot.services.audit import verify_chain  # noqa: E402
from bot.services.container import Services  # noqa: E402
from bot.services.deps import Deps  # noqa: E402
from bot.services.records import load_release, load_view, settle, show  # noqa: E402
from bot.services.releases import ReleaseService  # noqa: E402
from bot.services.signoff import SignoffService  # noqa: E402
from bot.services.tasks import TaskRunner  # noqa: E402

SIZES = (10, 1_000, 10_000)
PRESENT = 3  # releases being signed now, the newest
RUNS = 20  # check runs of the checklist per release
PHASE_RUNS = 3  # runs of each post-deploy phase
NEW_EVENTS = 5  # appended before each export and incremental verify
CHANNEL = "CRELEASE"
T0 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
ENV = {
    "READINESS_CHANNEL": CHANNEL,
    "READINESS_ENGINEERING_LEAD": "UENG",
    "READINESS_DEVOPS_LEAD": "UOPS",
    "READINESS_SECURITY_LEAD": "USEC",
    "READINESS_PRODUCT_OWNER": "UPRD",
    "READINESS_CTO": "UCTO",
}
SIGNERS = (
    ("engineering_lead", "UENG"),
    ("devops_lead", "UOPS"),
    ("security_lead", "USEC"),
    ("product_owner", "UPRD"),
)
BUDGET, MIN_RUNS, MAX_RUNS = 1.5, 3, 30  # seconds of timed runs per surface


class Clock:
    def __init__(self) -> None:
        self.at = T0

    def now(self) -> datetime:
        return self.at

    def advance(self, **delta: float) -> None:
        self.at += timedelta(**delta)


class NoGroups:
    async def usergroup_members(self, usergroup_id: str) -> frozenset[str]:
        return frozenset()


def history_name(release_id: int) -> str:
    return f"LUMINES 1.{release_id}.0"


# building a database -----------------------------------------------------------------------


async def check_runs(deps: Deps, clock: Clock, release_id: int, failing: int) -> None:
    """RUNS runs of the checklist; the first FAILING runs fail every 7th item."""
    app = deps.settings.app
    automated = [i for i in app.items if i.automated]
    for run in range(RUNS):
        clock.advance(minutes=10)
        now = clock.now()
        async with deps.db.write() as uow:
            trigger = "opened" if run == 0 else "recheck"
            run_id = await uow.checks.start_run(release_id, trigger, None, len(automated), now)
            counts: dict[str, int] = {}
            for n, item in enumerate(automated):
                fails = run < failing and n % 7 == 0
                status = ItemStatus.FAIL if fails else ItemStatus.PASS
                counts[status.value] = counts.get(status.value, 0) + 1
                reason = "HTTP 503 after 41 ms" if fails else "HTTP 200 in 12 ms"
                values = {"status_code": 503 if fails else 200, "elapsed_ms": 12.0}
                await uow.checks.add_result(
                    release_id, run_id, item.id, status.value, reason, values, 12.0, now
                )
            await uow.checks.finish_run(run_id, now)
            await uow.audit.append("checks.run", now, release_id, None, run_id=run_id, **counts)
            release = await load_release(uow, release_id)
            await settle(uow, deps, await load_view(uow, app, release), now, None)


async def tick_all(deps: Deps, clock: Clock, release_id: int) -> None:
    app = deps.settings.app
    owners = {role: user for role, user in SIGNERS}
    clock.advance(minutes=5)
    now = clock.now()
    async with deps.db.write() as uow:
        by: dict[str, list[str]] = {}
        for item in app.items:
            if not item.automated:
                user = owners.get(item.owner or "", "UOPS")
                await uow.checks.tick(release_id, item.id, user, now)
                by.setdefault(user, []).append(item.id)
        for user, items in by.items():
            await uow.audit.append("items.ticked", now, release_id, user, ticked=items, unticked=[])
        release = await load_release(uow, release_id)
        await settle(uow, deps, await load_view(uow, app, release), now, "UOPS")


async def sign(deps: Deps, clock: Clock, release_id: int, final: bool = True) -> None:
    app = deps.settings.app
    signoff = SignoffService(deps)
    for role_id, user in SIGNERS:
        clock.advance(minutes=3)
        await signoff.sign(release_id, role_id, user, app.roles[role_id].attestations, None)
    if final:
        clock.advance(minutes=3)
        intent = await signoff.prepare(release_id, "cto", "UCTO")
        assert intent.plan is not None
        plan = intent.plan
        if not plan.rollback_plan or plan.window_start is None:
            from bot.domain.authorization import DeploymentPlan

            now = clock.now()
            plan = DeploymentPlan(
                now + timedelta(hours=1),
                now + timedelta(hours=2),
                plan.team or ("UOPS",),
                plan.rollback_plan or "helm rollback lumines",
            )
        attestations = app.roles["cto"].attestations
        await signoff.sign(release_id, "cto", "UCTO", attestations, "ship it", plan)


async def deploy_and_monitor(deps: Deps, clock: Clock, release_id: int) -> None:
    """What DeployService and MonitorService record, written through the repositories (the
    monitor's checks would need live targets)."""
    app = deps.settings.app
    clock.advance(hours=1)
    now = clock.now()
    async with deps.db.write() as uow:
        release = await load_release(uow, release_id)
        await uow.releases.set_deployed(release_id, "UOPS", now)
        await uow.audit.append("release.deployed", now, release_id, "UOPS")
        phases = tuple(PhasePlan(p.title, "10m") for p in app.post_deploy.phases)
        await uow.outbox.enqueue(release_id, Deployed(release.name, "UOPS", False, phases), now)
        await show(uow, deps, await load_view(uow, app, await load_release(uow, release_id)))
    windows = timeline(app.post_deploy.phases, now)
    post = [i for i in app.post_deploy.items if i.check is not None]
    broken = post[0]
    for w in windows:
        for slot in range(PHASE_RUNS):
            clock.at = min(w.start + slot * w.phase.every, w.end - timedelta(seconds=1))
            at = clock.now()
            async with deps.db.write() as uow:
                release = await load_release(uow, release_id)
                await uow.marks.mark(release_id, run_key(w, slot), at, at)
                run_id = await uow.checks.start_run(
                    release_id, "monitor", None, len(post), at, phase=w.phase.id
                )
                if release.state is ReleaseState.DEPLOYED:
                    await uow.releases.set_state(release_id, ReleaseState.MONITORING, at)
                    await uow.audit.append("release.state", at, release_id, None, new="monitoring")
                breach = w.index == 0 and slot == 1
                for item in post:
                    fails = breach and item is broken
                    status = ItemStatus.FAIL if fails else ItemStatus.PASS
                    reason = "error rate 0.4% > 0.1%" if fails else "error rate 0.01% < 0.1%"
                    await uow.checks.add_result(
                        release_id, run_id, item.id, status.value, reason, {"value": 0.01}, 9.0, at
                    )
                if breach:
                    message_id = await uow.monitoring.add_message(
                        release_id, w.phase.id, ["UOPS"], at
                    )
                    await uow.monitoring.add_alert(
                        release_id, broken.id, w.phase.id, "fail", "error rate 0.4%", at, message_id
                    )
                    await uow.audit.append(
                        "alert.opened", at, release_id, None, item=broken.id, reason="0.4%"
                    )
                    opened = await uow.monitoring.message(message_id)
                    assert opened is not None
                    await uow.outbox.enqueue(release_id, breach_alert(app, release, opened), at)
                    await uow.monitoring.answer_message(message_id, "UOPS", at, rollback=False)
                    await uow.audit.append(
                        "alert.acknowledged",
                        at,
                        release_id,
                        "UOPS",
                        message=message_id,
                        items=[broken.id],
                    )
                    answered = AlertAnswered("UOPS", broken.title, release.name, False)
                    await uow.outbox.enqueue(release_id, answered, at)
                if w.index == 0 and slot == 2:
                    alert = await uow.monitoring.open_alert(release_id, broken.id)
                    assert alert is not None
                    await uow.monitoring.recover(alert.id, at)
                    await uow.audit.append("alert.recovered", at, release_id, None, item=broken.id)
                    open_message = await uow.monitoring.open_message(release_id)
                    if open_message is not None:
                        await uow.monitoring.close_message(open_message.id, at)
                await uow.checks.finish_run(run_id, at)
        clock.at = w.end + timedelta(seconds=30)
        at = clock.now()
        following = windows[w.index + 1] if w.index + 1 < len(windows) else None
        async with deps.db.write() as uow:
            release = await load_release(uow, release_id)
            await uow.marks.mark(release_id, w.digest_key, w.end, at)
            seen: list[Observation] = await uow.checks.observations(
                release_id, [i.id for i in app.post_deploy.items], w.start
            )
            found = digest(
                w,
                app.post_deploy.items,
                seen,
                await uow.monitoring.breaches(release_id),
                following.phase if following else None,
            )
            await uow.outbox.enqueue(release_id, digest_notice(release, found), at)
            await uow.audit.append(
                "digest.posted", at, release_id, None, phase=w.phase.id, late=False
            )
            if following is None:
                await uow.releases.set_state(release_id, ReleaseState.DONE, at)
                await uow.audit.append("release.state", at, release_id, None, new="done")
                await uow.outbox.enqueue(release_id, MonitoringComplete(release.name), at)
            await show(uow, deps, await load_view(uow, app, await load_release(uow, release_id)))


async def all_sent(deps: Deps) -> None:
    """Every message, card and alert so far is in Slack."""
    async with deps.db.write() as uow:
        await uow.session.execute(
            update(OutboxRow)
            .where(OutboxRow.sent_at.is_(None))
            .values(sent_at=OutboxRow.created_at, attempts=1)
        )
        await uow.session.execute(
            update(ReleaseRow).values(
                card_ts="1764000000.000100",
                card_sent_version=ReleaseRow.card_version,
                card_attempted=True,
            )
        )
        await uow.session.execute(
            update(AlertMessageRow).values(
                ts="1764000000.000200", sent_version=AlertMessageRow.version
            )
        )


def copy_history(path: Path, last: int) -> None:
    """Releases 2..LAST as copies of release 1, every row of it copied in SQL with its ids
    moved past the copies before it (the audit log excepted: `chain_copies`)."""
    db = sqlite3.connect(path)
    try:
        db.execute("PRAGMA foreign_keys=ON")
        db.execute("PRAGMA synchronous=OFF")
        db.execute("BEGIN")
        db.execute("CREATE TEMP TABLE copies (k INTEGER PRIMARY KEY)")
        db.execute(
            "WITH RECURSIVE n(k) AS (SELECT 2 UNION ALL SELECT k + 1 FROM n WHERE k < ?) "
            "INSERT INTO temp.copies SELECT k FROM n",
            (last,),
        )
        present = {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        tables = [t.name for t in Base.metadata.sorted_tables if t.name in present]
        spans = {}
        for table in tables:
            (spans[table],) = db.execute(
                f'SELECT coalesce(max(rowid), 0) FROM "{table}"'
            ).fetchone()
        for table in tables:
            columns = [r[1] for r in db.execute(f'PRAGMA table_info("{table}")')]
            if table == "audit_events" or (table != "releases" and "release_id" not in columns):
                continue  # the chain is hashed in Python; the rest is no release's
            refs = {r[3]: r[2] for r in db.execute(f'PRAGMA foreign_key_list("{table}")')}
            exprs = []
            for column in columns:
                if table == "releases" and column == "id":
                    exprs.append("c.k")
                elif table == "releases" and column == "name":
                    exprs.append("'LUMINES 1.' || c.k || '.0'")
                elif column == "id":
                    exprs.append(f"t.id + (c.k - 1) * {spans[table]}")
                elif refs.get(column) == "releases":
                    exprs.append("c.k")
                elif column in refs:
                    exprs.append(f't."{column}" + (c.k - 1) * {spans[refs[column]]}')
                else:
                    exprs.append(f't."{column}"')
            own = "t.id = 1" if table == "releases" else "t.release_id = 1"
            names = ", ".join(f'"{c}"' for c in columns)
            db.execute(
                f'INSERT INTO "{table}" ({names}) SELECT {", ".join(exprs)} '
                f'FROM "{table}" AS t, temp.copies AS c WHERE {own} ORDER BY c.k'
            )
        db.execute("UPDATE releases SET state = 'cancelled' WHERE id % 10 = 0")
        db.execute("COMMIT")
    finally:
        db.close()


async def chain_copies(deps: Deps, last: int) -> None:
    """The audit events of releases 2..LAST: release 1's, hashed into the chain in order."""
    async with deps.db.read() as uow:
        template = await uow.audit.events(release_id=1)
        head, _ = await uow.audit.head()
        first = (template[-1].id if template else 0) + 1
    next_id, previous = first, head
    table = AuditRow.__table__
    batch: list[dict[str, Any]] = []
    for release_id in range(2, last + 1):
        for e in template:
            data = dict(e.data or {})
            if "name" in data:
                data["name"] = history_name(release_id)
            digest_ = audit_hash(previous, e.at, release_id, e.actor, e.kind, data)
            batch.append(
                {
                    "id": next_id,
                    "at": e.at,
                    "release_id": release_id,
                    "actor": e.actor,
                    "kind": e.kind,
                    "data": data,
                    "prev_hash": previous,
                    "hash": digest_,
                }
            )
            next_id, previous = next_id + 1, digest_
        if len(batch) >= 20_000 or release_id == last:
            async with deps.db.write() as uow:
                await uow.session.execute(insert(table), batch)
            batch = []


@dataclass
class World:
    size: int
    path: Path
    deps: Deps
    services: Services
    clock: Clock
    present: list[int] = field(default_factory=list)
    exported: str = ""
    built_s: float = 0.0
    counts: dict[str, int] = field(default_factory=dict)


async def build(size: int, root: Path, settings: Settings, http: httpx.AsyncClient) -> World:
    started = time.perf_counter()
    path = root / f"history-{size}.db"
    db = Database(f"sqlite+aiosqlite:///{path}")
    await upgrade(db)
    clock = Clock()
    deps = Deps(settings, db, clock, NoGroups(), http, TaskRunner())
    releases = ReleaseService(deps)  # no CheckService: opening starts no real checks
    history = size - PRESENT

    opened = await releases.open(history_name(1), "sha-0001", "UREL", CHANNEL)
    first = opened.release.id
    await check_runs(deps, clock, first, failing=3)
    await tick_all(deps, clock, first)
    await sign(deps, clock, first)
    await deploy_and_monitor(deps, clock, first)
    await all_sent(deps)
    await db.engine.dispose()
    copy_history(path, history)
    await chain_copies(deps, history)

    present = []
    for n in range(PRESENT):  # being signed now: checked, ticked, partly signed
        clock.advance(minutes=30)
        opened = await releases.open(f"LUMINES 9.0.{n}", f"sha-9{n}", "UREL", CHANNEL)
        present.append(opened.release.id)
        await check_runs(deps, clock, opened.release.id, failing=2)
        await tick_all(deps, clock, opened.release.id)
        if n == 0:
            await sign(deps, clock, opened.release.id, final=False)
    await all_sent(deps)
    async with db.write() as uow:  # the present: a card to refresh, two notices to send
        await uow.releases.touch_card(present[-1])
        for n in range(2):
            deployed = Deployed(f"LUMINES 9.0.{n}", "UOPS")
            await uow.outbox.enqueue(present[0], deployed, clock.now())
    await verify_chain(db)  # as a running bot has: the chain verified up to here

    exported = history if history % 10 else history - 1  # the newest release done
    world = World(size, path, deps, Services.build(deps), clock, present, history_name(exported))
    world.built_s = time.perf_counter() - started
    with sqlite3.connect(path) as raw:
        for table in ("releases", "check_results", "audit_events", "outbox"):
            world.counts[table] = raw.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
    world.counts["MB"] = path.stat().st_size // 1_000_000
    return world


# timing ------------------------------------------------------------------------------------

Call = Callable[[World], Awaitable[object]]


async def new_events(world: World) -> None:
    """Someone signs meanwhile: the chain grows by NEW_EVENTS."""
    async with world.deps.db.write() as uow:
        for n in range(NEW_EVENTS):
            world.clock.advance(seconds=1)
            await uow.audit.append("bench.event", world.clock.now(), world.present[0], "U", n=n)


def status(w: World) -> Awaitable[object]:
    return w.services.releases.resolve_view("LUMINES 9.0.1", CHANNEL)


SURFACES: list[tuple[str, Call, Call | None]] = [
    ("status (`/readiness status NAME`)", status, None),
    ("list (`/readiness list`, page 1)", lambda w: w.services.releases.listing(), None),
    ("Checklist", lambda w: w.services.signoff.checklist(w.present[1], "UENG"), None),
    ("Home tab", lambda w: w.services.home.home("UENG"), None),
    ("export of one release", lambda w: w.services.export.document_named(w.exported), new_events),
    ("`audit verify` (incremental)", lambda w: verify_chain(w.deps.db), new_events),
    ("`audit verify --full`", lambda w: verify_chain(w.deps.db, full=True), None),
    ("outbox scan (unsent messages)", lambda w: w.services.outbox.messages(), None),
    ("cards to update (`pending_cards`)", lambda w: w.services.outbox.cards(), None),
    ("/metrics pending counts", lambda w: w.services.outbox.pending(), None),
]


async def timed(world: World, call: Call, setup: Call | None) -> float:
    """Milliseconds of CALL's fastest run (SETUP untimed before each), after a warm-up: the
    fastest is the least disturbed by whatever else the machine runs."""
    if setup is not None:
        await setup(world)
    started = time.perf_counter()
    await call(world)
    warm = time.perf_counter() - started
    times: list[float] = []
    spent = 0.0
    while len(times) < (1 if warm > 2 else MIN_RUNS) or (
        spent < BUDGET and len(times) < MAX_RUNS and warm <= 2
    ):
        if setup is not None:
            await setup(world)
        started = time.perf_counter()
        await call(world)
        took = time.perf_counter() - started
        times.append(took * 1000)
        spent += took
    return min(times)


async def held_loop(world: World) -> tuple[float, float, float, float, int]:
    """Status replies while a full walk runs: (idle p50 ms, p50 ms, max ms, the loop's
    longest stall ms, replies)."""
    idle = [await timed(world, status, None) for _ in range(3)]
    stall = 0.0
    done = asyncio.Event()

    async def ticker() -> None:
        nonlocal stall
        last = time.perf_counter()
        while not done.is_set():
            await asyncio.sleep(0.001)
            now = time.perf_counter()
            stall = max(stall, now - last)
            last = now

    async def walk() -> None:
        try:
            await verify_chain(world.deps.db, full=True)
        finally:
            done.set()

    tick = asyncio.create_task(ticker())
    walking = asyncio.create_task(walk())
    replies: list[float] = []
    await asyncio.sleep(0)
    while not done.is_set():
        started = time.perf_counter()
        await status(world)
        replies.append((time.perf_counter() - started) * 1000)
    await walking
    await tick
    replies = replies or [0.0]
    middle = statistics.median(replies)
    return statistics.median(idle), middle, max(replies), stall * 1000, len(replies)


# query plans -------------------------------------------------------------------------------


async def plans(world: World) -> list[str]:
    """EXPLAIN QUERY PLAN of each distinct statement the surfaces ran that scans a table."""
    seen: dict[str, Any] = {}

    def record(_c: Any, _cur: Any, statement: str, parameters: Any, _ctx: Any, many: bool) -> None:
        if not many and statement.lstrip().upper().startswith("SELECT"):
            seen.setdefault(statement, parameters)

    engine = world.deps.db.engine.sync_engine
    event.listen(engine, "before_cursor_execute", record)
    try:
        for _, call, setup in SURFACES:
            if setup is not None:
                await setup(world)
            await call(world)
    finally:
        event.remove(engine, "before_cursor_execute", record)
    lines = []
    with sqlite3.connect(world.path) as raw:
        for statement, parameters in seen.items():
            plan = raw.execute(f"EXPLAIN QUERY PLAN {statement}", parameters).fetchall()
            scans = [row[3] for row in plan if row[3].startswith("SCAN")]
            if scans:
                flat = " ".join(statement.split())
                at = flat.find(" FROM ")
                lines.append(f"SELECT … {flat[at + 1 :]}"[:240] if at > 0 else flat[:240])
                lines.extend(f"    {row[3]}" for row in plan)
    return lines


# the table ---------------------------------------------------------------------------------


def ms(value: float) -> str:
    return f"{value / 1000:.2f} s" if value >= 1000 else f"{value:.1f} ms"


async def run(sizes: list[int], show_plans: bool) -> list[str]:
    settings = load_settings(
        ROOT / "app.yaml", env={**ENV, "DATABASE_URL": "sqlite+aiosqlite:///unused.db"}
    )
    results: dict[int, dict[str, float]] = {}
    worlds: list[World] = []
    held = None
    plan_lines: list[str] = []
    with tempfile.TemporaryDirectory(prefix="readiness-history-") as tmp:
        async with httpx.AsyncClient() as http:
            for size in sizes:
                world = await build(size, Path(tmp), settings, http)
                worlds.append(world)
                gc.collect()
                gc.freeze()  # as `serve` does once started
                results[size] = {
                    label: await timed(world, call, setup) for label, call, setup in SURFACES
                }
                if size == sizes[-1]:
                    held = await held_loop(world)
                    if show_plans:
                        plan_lines = await plans(world)
                await world.deps.tasks.drain()
                await world.deps.db.close()
                world.path.unlink()
                gc.unfreeze()
    base = sizes[0]
    head = " | ".join(f"{s:,}" for s in sizes)
    ratios = " | ".join(f"{s:,} / {base:,}" for s in sizes[1:])
    lines = [
        f"| surface | {head} | {ratios} |",
        "|---|" + "---:|" * (2 * len(sizes) - 1),
    ]
    for label, _, _ in SURFACES:
        cells = " | ".join(ms(results[s][label]) for s in sizes)
        rel = " | ".join(f"{results[s][label] / results[base][label]:.2f}x" for s in sizes[1:])
        lines.append(f"| {label} | {cells} | {rel} |")
    lines += ["", "| releases | check results | audit events | outbox rows | file | built in |"]
    lines.append("|---:|---:|---:|---:|---:|---:|")
    for w in worlds:
        c = w.counts
        lines.append(
            f"| {c['releases']:,} | {c['check_results']:,} | {c['audit_events']:,} | "
            f"{c['outbox']:,} | {c['MB']:,} MB | {w.built_s:.0f} s |"
        )
    if held is not None:
        idle, p50, worst, stall, replies = held
        lines += [
            "",
            f"While `audit verify --full` walks {worlds[-1].counts['audit_events']:,} events "
            f"({sizes[-1]:,} releases), status replies one after another:",
            "",
            "| status idle p50 | during the walk p50 | max | replies | longest loop stall |",
            "|---:|---:|---:|---:|---:|",
            f"| {ms(idle)} | {ms(p50)} | {ms(worst)} | {replies} | {ms(stall)} |",
        ]
    if plan_lines:
        lines += ["", f"Statements that scan ({sizes[-1]:,} releases):", "", *plan_lines]
    return lines


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--sizes", default=",".join(str(s) for s in SIZES))
    parser.add_argument("--plans", action="store_true", help="print the plans that scan")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    if min(sizes) <= PRESENT:
        parser.error(f"each size must be more than the {PRESENT} releases being signed")
    started = time.monotonic()
    lines = asyncio.run(run(sizes, args.plans))
    print("\n".join(lines))
    print(
        f"\nMachine: nproc={os.cpu_count()}, Python {platform.python_version()} "
        f"({platform.machine()}), SQLite {sqlite3.sqlite_version}; "
        f"took {time.monotonic() - started:.0f}s."
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
