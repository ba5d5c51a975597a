"""Ack latency of Readiness next to a bare Bolt app, under 100 concurrent signed requests.

    cd /work/main && /work/venv/bin/python bench/ack.py [--client aiohttp|httpx]

Runs the real bot (`readiness serve`, a subprocess) against the fake Slack Web API, and two
bare Bolt apps that only ack (bench/bare_bolt.py, subprocesses, same aiohttp adapter). Each
request is signed as it is sent and timed client side from send to HTTP answer = the ack,
by a client alone in its own process. The default client is aiohttp: httpx's pool tops out
near 200 req/s at 100 concurrent (encode/httpx#3215), so with it the table measures httpx.
Bare Bolt gets the same bodies as Readiness; each row is compared with bare Bolt's default
mode on the same kind of request. Readiness's private replies (sent after the ack, through
response_url) are timed too, from the burst to their arrival at the fake Slack: what the
ack-first order costs. Speed is measured, never asserted: exits 0.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import multiprocessing as mp
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

import aiohttp
import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bot.fake_slack import FakeSlackThread, payloads  # noqa: E402
from bot.fake_slack.elements import element_action, find_elements  # noqa: E402
from tests.scenario.harness import CHANNEL, SECRET, USERS, Bot, ThreadedTarget, free_port  # noqa: E402

CONCURRENCY, ROUNDS, TARGET_RATIO = 100, 20, 1.25
RELEASE, ROLE = "BENCH 1.0.0", "engineering_lead"
Build = Callable[[int], bytes]  # request number -> unsigned body
Post = Callable[[str, bytes, dict[str, str]], Awaitable[int]]  # -> HTTP status


def start_bare(fake: FakeSlackThread, before: bool) -> tuple[str, subprocess.Popen[bytes]]:
    port = free_port()
    process = subprocess.Popen(
        [
            sys.executable,
            str(ROOT / "bench" / "bare_bolt.py"),
            str(port),
            fake.api_url,
            "1" if before else "0",
        ],
        env={**os.environ, "SLACK_SIGNING_SECRET": SECRET},
        cwd=ROOT,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while process.poll() is None and time.monotonic() < deadline:
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                return url, process
        time.sleep(0.1)
    raise RuntimeError(f"bare Bolt on {url} did not start")


def open_release(fake: FakeSlackThread, bot: Bot) -> tuple[int, dict[str, Any]]:
    """`/readiness new BENCH 1.0.0`; wait for the card and its check runs; (release id, card)."""
    body = payloads.slash_command(
        "UREL",
        f"new {RELEASE}",
        channel_id=CHANNEL,
        response_url=fake.new_response_url(CHANNEL, "UREL"),
    )
    headers = {"Content-Type": payloads.FORM, **payloads.sign(SECRET, body)}
    answer = httpx.post(bot.events_url, content=body, headers=headers, timeout=10)
    assert answer.status_code == 200, answer.text
    card = fake.wait_for(
        lambda s: next((m for m in s.messages(CHANNEL) if m.text.startswith(f"{RELEASE}:")), None),
        timeout=20,
    )
    assert card is not None
    running = (
        "SELECT count(*) FROM check_runs JOIN releases ON releases.id = release_id "
        "WHERE releases.name = :name AND finished_at IS NULL"
    )
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if not bot.sql(running, name=RELEASE)[0][0]:
            found = bot.sql("SELECT id FROM releases WHERE name = :name", name=RELEASE)
            return int(found[0][0]), card.as_slack()
        time.sleep(0.05)
    raise RuntimeError(f"checks of {RELEASE} still running")


def builders(
    fake: FakeSlackThread, release_id: int, card: dict[str, Any], total: int
) -> tuple[Build, Build]:
    """Bodies of `/readiness status` and of a Sign click by UNOBODY<n> (not a member)."""

    def user(n: int) -> str:
        return f"UNOBODY{n % CONCURRENCY + 1}"

    urls = fake.on_loop(
        lambda f: [f.new_response_url(CHANNEL, user(n), card["ts"]) for n in range(total)]
    )
    ((block, button),) = find_elements(card["blocks"], f"sign:{ROLE}")
    assert button["value"] == f'{{"r":{release_id},"role":"{ROLE}"}}', button["value"]

    def status(n: int) -> bytes:
        return payloads.slash_command(
            user(n),
            "status",
            channel_id=CHANNEL,
            channel_name="releases",
            response_url=urls[n],
            trigger_id=f"T{n}",
        )

    def click(n: int) -> bytes:
        return payloads.block_actions(
            user(n),
            {"id": CHANNEL, "name": "releases"},
            card,
            element_action(block, button),
            response_url=urls[n],
            trigger_id=f"T{n}",
        )

    return status, click


@contextlib.asynccontextmanager
async def poster(kind: str) -> AsyncIterator[Post]:
    """POST with a pool of 2 x CONCURRENCY connections, through aiohttp or httpx."""
    if kind == "httpx":
        limits = httpx.Limits(
            max_connections=2 * CONCURRENCY, max_keepalive_connections=2 * CONCURRENCY
        )
        async with httpx.AsyncClient(limits=limits, timeout=30.0) as client:

            async def post_httpx(url: str, body: bytes, headers: dict[str, str]) -> int:
                return (await client.post(url, content=body, headers=headers)).status_code

            yield post_httpx
        return
    connector = aiohttp.TCPConnector(limit=2 * CONCURRENCY)
    async with aiohttp.ClientSession(
        connector=connector, timeout=aiohttp.ClientTimeout(total=30)
    ) as session:

        async def post_aiohttp(url: str, body: bytes, headers: dict[str, str]) -> int:
            async with session.post(url, data=body, headers=headers) as answer:
                await answer.read()
                return answer.status

        yield post_aiohttp


async def one(post: Post, url: str, body: bytes) -> tuple[float, int]:
    headers = {"Content-Type": payloads.FORM, **payloads.sign(SECRET, body)}  # fresh signature
    start = time.perf_counter()
    status = await post(url, body, headers)
    return (time.perf_counter() - start) * 1000, status


def client_process(conn: Connection, kind: str) -> None:
    """The measuring client in its own process (the fake Slack's work stays out of the
    timing loop): receives (url, bodies), sends them all at once, answers [(ms, status)]."""

    async def serve() -> None:
        async with poster(kind) as post:
            while (job := await asyncio.to_thread(conn.recv)) is not None:
                url, bodies = job
                sent = time.time()  # wall clock: the fake Slack stamps replies with it
                conn.send((sent, await asyncio.gather(*(one(post, url, b) for b in bodies))))

    asyncio.run(serve())


@dataclass
class Row:
    label: str
    url: str
    build: Build
    fake: FakeSlackThread | None = None  # set: wait for the bot's replies after each round
    samples: list[float] = field(default_factory=list)
    replies: list[float] = field(default_factory=list)  # ms from the burst to each reply
    errors: int = 0
    late: int = 0

    def round(self, conn: Connection, first: int, keep: bool) -> None:
        before = len(self.fake.responses()) if self.fake else 0
        conn.send((f"{self.url}/slack/events", [self.build(first + i) for i in range(CONCURRENCY)]))
        sent, results = conn.recv()
        if keep:
            self.samples += [ms for ms, _ in results]
            self.errors += sum(status != 200 for _, status in results)
        if self.fake:  # the bot finishes this round's after-ack work before the next round
            try:
                self.fake.wait_for(lambda s: len(s.responses()) >= before + CONCURRENCY, 30)
            except TimeoutError:
                self.late += 1
            if keep:
                replies = self.fake.responses()[before:]
                self.replies += [(reply.at - sent) * 1000 for reply in replies]
        time.sleep(0.1)


def pct(samples: list[float]) -> tuple[float, float, float]:
    q = statistics.quantiles(samples, n=100, method="inclusive")
    return q[49], q[94], q[98]


def measure(rows: list[Row], kind: str) -> None:
    """A warm-up round per row, then ROUNDS rounds per row, interleaved to spread drift."""
    conn, child_conn = mp.Pipe()
    child = mp.get_context("spawn").Process(target=client_process, args=(child_conn, kind))
    child.start()
    try:
        for r in range(ROUNDS + 1):
            for i, row in enumerate(rows):
                row.round(conn, (r * len(rows) + i) * CONCURRENCY, keep=r > 0)
    finally:
        conn.send(None)
        child.join(30)


def report(rows: list[Row], kind: str, took: float) -> str:
    def base(row: Row) -> float:  # p95 of bare Bolt default on the same kind of request
        return pct(next(b for b in rows if b.build is row.build).samples)[1]

    lines = [
        "| row | requests | concurrency | p50 ms | p95 ms | p99 ms | p95 ratio vs bare Bolt "
        "default |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for row in rows:
        p50, p95, p99 = pct(row.samples)
        note = f" ({row.errors} non-200)" if row.errors else ""
        lines.append(
            f"| {row.label} | {len(row.samples)}{note} | {CONCURRENCY} | {p50:.1f} | "
            f"{p95:.1f} | {p99:.1f} | {p95 / base(row):.2f}x |"
        )
    lines += [
        "",
        "| Readiness's private reply (after the ack) | replies | p50 ms | p95 ms | p99 ms |",
        "|---|---:|---:|---:|---:|",
    ]
    for row in rows[-2:]:
        p50, p95, p99 = pct(row.replies)
        lines.append(f"| {row.label} | {len(row.replies)} | {p50:.1f} | {p95:.1f} | {p99:.1f} |")
    lines.append("")
    for row in rows[-2:]:
        p95, limit = pct(row.samples)[1], TARGET_RATIO * base(row)
        verdict = (
            f"within the {TARGET_RATIO}x target ({limit:.1f} ms)"
            if p95 <= limit
            else f"misses the {TARGET_RATIO}x target ({limit:.1f} ms) by {p95 - limit:.1f} ms"
        )
        late = f"; {row.late} round(s) of replies came late" if row.late else ""
        lines.append(f"- {row.label}: p95 {p95:.1f} ms, {verdict}{late}.")
    lines.append(
        f"\nMachine: nproc={os.cpu_count()}, Python {platform.python_version()} "
        f"({platform.machine()}); {ROUNDS} rounds x {CONCURRENCY} concurrent per row "
        f"after a warm-up round, rows interleaved; client {kind} in its own process; "
        f"took {took:.0f}s."
    )
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--client", choices=["aiohttp", "httpx"], default="aiohttp")
    kind = parser.parse_args().client
    started = time.monotonic()
    processes: list[subprocess.Popen[bytes]] = []
    with tempfile.TemporaryDirectory() as tmp, FakeSlackThread() as fake:
        fake.add_channel(CHANNEL, "releases")  # the workspace of tests/scenario/conftest.py
        for user_id, name in USERS.items():
            fake.add_user(user_id, name)
        fake.add_usergroup("SPRODUCT", ["UGROUP"], handle="product")
        for i in range(1, CONCURRENCY + 1):
            fake.add_user(f"UNOBODY{i}", f"visitor{i}")
        target = ThreadedTarget().start()
        bot = Bot(fake, target, Path(tmp), f"sqlite+aiosqlite:///{Path(tmp) / 'readiness.db'}")
        bot.start()
        try:
            release_id, card = open_release(fake, bot)
            status, click = builders(fake, release_id, card, (ROUNDS + 1) * CONCURRENCY * 6)
            rows = []
            for before in (False, True):
                url, process = start_bare(fake, before)
                processes.append(process)
                mode = f"bare Bolt `process_before_response={before}`"
                rows += [Row(f"{mode}, status", url, status), Row(f"{mode}, Sign", url, click)]
            rows += [
                Row("Readiness `/readiness status`", bot.url, status, fake),
                Row("Readiness Sign click (refused)", bot.url, click, fake),
            ]
            measure(rows, kind)
        finally:
            for process in processes:
                process.terminate()
                process.wait(10)
            bot.stop()
            target.stop()
    print(report(rows, kind, time.monotonic() - started))
    return 0


if __name__ == "__main__":
    sys.exit(main())
