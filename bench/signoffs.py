"""Sign-offs per second and their ack p95, through the real HTTP path, on SQLite (one
replica) and PostgreSQL (one and three replicas), in one run.

    cd /work/main && .venv/bin/python bench/signoffs.py [--postgres URL] [--releases N]

Each configuration runs `readiness serve` (subprocesses) against the fake Slack Web API
with the shipped checklist plus six more signing roles, opens N releases (their checks
run against the LUMINES stand-in and finish first), opens every Sign modal (a click, not
timed), then submits them all: ten at a time from a client in its own process, spread
round-robin over the replicas as a load balancer would. A sign-off is a Sign modal's
submission answered 200 with no errors: committed before the ack. Beside each rate, the
engine's own commit rate (one-row write transactions through the bot's Database, at the
same concurrency) is the limit. Without --postgres a throwaway server is started with
.ci/postgres. Speed is measured, never asserted: exits 0.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import multiprocessing as mp
import os
import platform
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

import aiohttp
from sqlalchemy import text

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bot.db import Database  # noqa: E402
from bot.fake_slack import FakeSlackThread, SlackDriver, payloads  # noqa: E402
from tests.databases import sql  # noqa: E402
from tests.scenario.harness import CHANNEL, SECRET, USERS, Bot, ThreadedTarget, edited_app  # noqa: E402

CONCURRENCY = 10
COUNTS = tuple(int(n) for n in os.environ.get("BENCH_REPLICAS", "1,3").split(","))
EXTRA_ROLES = [f"bench_{n}" for n in range(1, 7)]
SIGNERS = {
    "engineering_lead": "UENG",
    "devops_lead": "UOPS",
    "security_lead": "USEC",
    "product_owner": "UPRD",
    **{role: f"UB{n}" for n, role in enumerate(EXTRA_ROLES, 1)},
}


def config(tmp: Path) -> Path:
    def edit(app: dict[str, Any]) -> None:
        for role, user in SIGNERS.items():
            if role in EXTRA_ROLES:
                app["roles"][role] = {
                    "title": role.title(),
                    "members": [user],
                    "attestations": ["Ok"],
                }

    return edited_app(tmp, edit)


def commit_rate(url: str, total: int = 2000) -> float:
    """One-row write transactions per second through the bot's Database, CONCURRENCY at once."""

    async def measure() -> float:
        db = Database(url)
        try:
            async with db.write() as uow:
                await uow.session.execute(text("CREATE TABLE IF NOT EXISTS bench_commits (n int)"))
            numbers = iter(range(total))

            async def worker() -> None:
                for n in numbers:
                    async with db.write() as uow:
                        await uow.session.execute(
                            text("INSERT INTO bench_commits (n) VALUES (:n)"), {"n": n}
                        )

            start = time.perf_counter()
            await asyncio.gather(*(worker() for _ in range(CONCURRENCY)))
            return total / (time.perf_counter() - start)
        finally:
            await db.close()

    return asyncio.run(measure())


async def burst(
    session: aiohttp.ClientSession, jobs: list[tuple[str, bytes]]
) -> tuple[float, list[tuple[float, int, str]]]:
    """Send every (url, body), CONCURRENCY at a time: (wall s, [(ms, status, text)])."""
    queue = iter(jobs)
    out: list[tuple[float, int, str]] = []

    async def worker() -> None:
        for url, body in queue:
            headers = {"Content-Type": payloads.FORM, **payloads.sign(SECRET, body)}
            start = time.perf_counter()
            async with session.post(url, data=body, headers=headers) as answer:
                said = await answer.text()
            out.append(((time.perf_counter() - start) * 1000, answer.status, said))

    start = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(CONCURRENCY)))
    return time.perf_counter() - start, out


def client_process(conn: Connection) -> None:
    """The measuring client in its own process: receives jobs, answers burst()'s result."""

    async def serve() -> None:
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=30)) as session:
            while (jobs := await asyncio.to_thread(conn.recv)) is not None:
                conn.send(await burst(session, jobs))

    asyncio.run(serve())


@dataclass
class Result:
    label: str
    accepted: int
    refused: int
    wall: float
    latencies: list[float]
    busy: float  # the machine's CPU in use during the burst, 0-1
    commits: float = 0.0

    def measured(self, commits: float) -> Result:
        self.commits = commits
        print(self.line(), file=sys.stderr, flush=True)
        return self

    def line(self) -> str:
        q = statistics.quantiles(self.latencies, n=100, method="inclusive")
        rate = self.accepted / self.wall
        note = f" ({self.refused} refused)" if self.refused else ""
        return (
            f"| {self.label} | {self.accepted}{note} | {rate:.0f} | {q[49]:.0f} | {q[94]:.0f} | "
            f"{self.busy:.0%} | {self.commits:.0f} | {rate / self.commits:.2f} |"
        )


@contextlib.contextmanager
def replicas(
    fake: FakeSlackThread, target: ThreadedTarget, url: str, count: int, tmp: Path
) -> Iterator[list[Bot]]:
    for n in range(count):
        (tmp / f"r{n}").mkdir()
    app = str(config(tmp))
    bots = [Bot(fake, target, tmp / f"r{n}", url, READINESS_CONFIG=app) for n in range(count)]
    try:
        with ThreadPoolExecutor(count) as pool:
            list(pool.map(Bot.start, bots))
        yield bots
    finally:
        for bot in bots:
            bot.stop()


def open_modals(
    fake: FakeSlackThread, bots: list[Bot], names: list[str]
) -> list[tuple[str, bytes]]:
    """Open the releases and every Sign modal on them; the submissions' (url, body)."""
    spread = itertools.cycle(bots)
    for name in names:
        with SlackDriver(next(spread).events_url, SECRET, fake) as driver:
            assert driver.command("UREL", f"new {name}", channel=CHANNEL).status_code == 200
    cards = fake.wait_for(
        lambda s: (
            {n: m for m in s.messages(CHANNEL) for n in names if m.text.startswith(f"{n}:")}
            if all(any(m.text.startswith(f"{n}:") for m in s.messages(CHANNEL)) for n in names)
            else None
        ),
        timeout=60,
    )
    url = bots[0].env["DATABASE_URL"]
    deadline = time.monotonic() + 120
    while sql(url, "SELECT count(*) FROM check_runs WHERE finished_at IS NULL")[0][0]:
        if time.monotonic() > deadline:
            raise RuntimeError("checks still running")
        time.sleep(0.2)

    def modal(job: tuple[str, str, Bot]) -> tuple[str, bytes]:
        name, role, bot = job
        user = SIGNERS[role]
        with SlackDriver(bot.events_url, SECRET, fake) as driver:
            before = len(fake.views(user))
            assert driver.click(user, cards[name], f"sign:{role}")
            view = fake.wait_for(lambda s: s.views(user)[before:] and s.views(user)[-1], 30)
            options = [
                o["value"]
                for b in view.blocks
                if b.get("block_id") == "attestations"
                for o in b["element"]["options"]
            ]
            body = payloads.view_submission(  # as SlackDriver.submit builds it
                driver._who(user),
                view.as_slack(),
                {"attestations": options},
                trigger_id=driver._trigger(user, view.id),
                **driver._team(),
            )
        return bot.events_url, body

    # Role-major: ten concurrent sign-offs land on ten different releases, as in a busy org.
    jobs = [(n, r, b) for r in SIGNERS for n, b in zip(names, itertools.cycle(bots))]
    done: list[tuple[str, bytes]] = []
    for role in SIGNERS:  # one person opens their modals one after another
        done += [modal(job) for job in jobs if job[1] == role]
    return done


@dataclass
class Bench:
    """One fake Slack, one target, one measuring client: each configuration in turn."""

    fake: FakeSlackThread
    target: ThreadedTarget
    tmp: Path
    releases: int
    client: Connection
    profile: Path | None

    def run(self, label: str, url: str, count: int) -> Result:
        """COUNT replicas on URL: open the releases and modals, submit, count what held."""
        tmp = self.tmp / "".join(c for c in label.lower() if c.isalnum())
        tmp.mkdir()
        names = [f"{label[:2].upper()}{count} {n}.0.0" for n in range(1, self.releases + 1)]
        with replicas(self.fake, self.target, url, count, tmp) as bots:
            jobs = open_modals(self.fake, bots, names)
            with profiled(bots, self.profile, label):
                before = cpu_times()
                self.client.send(jobs)
                wall, out = self.client.recv()
                busy = busy_share(before, cpu_times())
        accepted = sum(1 for _, status, answer in out if status == 200 and not answer)
        held = sql(url, "SELECT count(*) FROM signatures WHERE withdrawn_at IS NULL")[0][0]
        assert held == accepted, (held, accepted)
        result = Result(label, accepted, len(out) - accepted, wall, [ms for ms, *_ in out], busy)
        return result.measured(commit_rate(url))


def cpu_times() -> tuple[int, int]:
    """The machine's (busy, total) CPU ticks so far, from /proc/stat."""
    ticks = [int(n) for n in Path("/proc/stat").read_text().split("\n")[0].split()[1:]]
    idle = ticks[3] + ticks[4]  # idle + iowait
    return sum(ticks) - idle, sum(ticks)


def busy_share(before: tuple[int, int], after: tuple[int, int]) -> float:
    return (after[0] - before[0]) / max(1, after[1] - before[1])


@contextlib.contextmanager
def profiled(bots: list[Bot], into: Path | None, label: str) -> Iterator[None]:
    """py-spy over each replica while the burst runs (--profile DIR): flat text per replica."""
    if into is None:
        yield
        return
    slug = "".join(c if c.isalnum() else "-" for c in label.lower())
    spies = [
        subprocess.Popen(
            [
                "py-spy",
                "record",
                "--pid",
                str(bot.process.pid),
                "--format",
                "raw",
                "--rate",
                "200",
                "-o",
                str(into / f"{slug}-{n}.txt"),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for n, bot in enumerate(bots)
        if bot.process is not None
    ]
    time.sleep(1)  # py-spy attaches
    try:
        yield
    finally:
        for spy in spies:
            spy.send_signal(signal.SIGINT)
            spy.wait(30)


def postgres(given: str | None) -> Iterator[str]:
    if given:
        yield given
        return
    server = Path(tempfile.mkdtemp())  # its own directory: the server runs as another user
    url = subprocess.run(
        [str(ROOT / ".ci" / "postgres"), "start", str(server)],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    try:
        yield url
    finally:
        subprocess.run([str(ROOT / ".ci" / "postgres"), "stop", str(server)], check=False)
        shutil.rmtree(server, ignore_errors=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--postgres", help="a PostgreSQL server URL (default: start one)")
    parser.add_argument("--releases", type=int, default=30)
    parser.add_argument("--profile", type=Path, help="py-spy each replica into this directory")
    parser.add_argument("--only", choices=["sqlite", "postgresql"], help="one database only")
    args = parser.parse_args()
    started = time.monotonic()
    from tests.databases import create_database

    results: list[Result] = []
    client, child_conn = mp.Pipe()
    child = mp.get_context("spawn").Process(target=client_process, args=(child_conn,))
    child.start()
    with tempfile.TemporaryDirectory() as tmp_dir, FakeSlackThread() as fake:
        fake.add_channel(CHANNEL, "releases")
        for user_id, name in {**USERS, **{u: u.lower() for u in SIGNERS.values()}}.items():
            fake.add_user(user_id, name)
        fake.add_usergroup("SPRODUCT", ["UGROUP"], handle="product")
        target = ThreadedTarget().start()
        bench = Bench(fake, target, Path(tmp_dir), args.releases, client, args.profile)
        try:
            if args.only != "postgresql":
                url = f"sqlite+aiosqlite:///{Path(tmp_dir) / 'readiness.db'}"
                results.append(bench.run("SQLite", url, 1))
            if args.only != "sqlite":
                with contextlib.contextmanager(postgres)(args.postgres) as server:
                    for count in COUNTS:
                        label = f"PostgreSQL, {count} replica{'s' if count > 1 else ''}"
                        results.append(bench.run(label, create_database(server), count))
        finally:
            client.send(None)
            child.join(30)
            target.stop()
    print(
        "| configuration | sign-offs | per second | ack p50 ms | ack p95 ms | machine CPU busy "
        "| engine commits/s | ratio |\n|---|---:|---:|---:|---:|---:|---:|---:|"
    )
    for result in results:
        print(result.line())
    print(
        f"\nMachine: nproc={os.cpu_count()}, Python {platform.python_version()}; "
        f"{args.releases} releases x {len(SIGNERS)} roles per configuration, "
        f"{CONCURRENCY} concurrent; took {time.monotonic() - started:.0f}s."
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
