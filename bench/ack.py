"""Ack latency of Readiness next to a bare Bolt app, under 100 concurrent signed requests.

    cd /work/main && /work/venv/bin/python bench/ack.py

Runs the real bot (`readiness serve`, a subprocess) against the fake Slack Web API and two
bare Bolt apps (bench/bare_bolt.py, subprocesses) that only ack. Every request is signed
just before its round and timed client side (httpx) from send to HTTP answer = the ack.
Prints a Markdown table; speed is measured, never asserted (exits 0).
"""

from __future__ import annotations

import asyncio
import os
import platform
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bot.fake_slack import FakeSlackThread, payloads  # noqa: E402
from bot.fake_slack.elements import element_action, find_elements  # noqa: E402
from tests.scenario.harness import (  # noqa: E402
    CHANNEL, SECRET, USERS, Bot, ThreadedTarget, free_port,
)

CONCURRENCY, ROUNDS, TARGET_RATIO = 100, 5, 1.25
RELEASE = "BENCH 1.0.0"
ROLE = "engineering_lead"
Build = Callable[[int], bytes]  # request number -> unsigned body


def wait_healthy(url: str, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{url} exited with {process.returncode}")
        try:
            if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"{url} did not become healthy")


def start_bare(fake: FakeSlackThread, before: bool) -> tuple[str, subprocess.Popen[bytes]]:
    port = free_port()
    process = subprocess.Popen(  # noqa: S603
        [sys.executable, str(ROOT / "bench" / "bare_bolt.py"), str(port), fake.api_url,
         "1" if before else "0"],
        env={**os.environ, "SLACK_SIGNING_SECRET": SECRET}, cwd=ROOT)
    url = f"http://127.0.0.1:{port}"
    wait_healthy(url, process)
    return url, process


def open_release(fake: FakeSlackThread, bot: Bot) -> tuple[int, dict[str, object]]:
    """`/readiness new BENCH 1.0.0`; wait for the card and its check runs; (release id, card)."""
    body = payloads.slash_command("UREL", f"new {RELEASE}", channel_id=CHANNEL,
                                  response_url=fake.new_response_url(CHANNEL, "UREL"))
    headers = {"Content-Type": payloads.FORM, **payloads.sign(SECRET, body)}
    answer = httpx.post(bot.events_url, content=body, headers=headers, timeout=10)
    assert answer.status_code == 200, answer.text
    fake.wait_for(lambda s: any(m.text.startswith(f"{RELEASE}:") for m in s.messages(CHANNEL)),
                  timeout=20)
    query = ("SELECT count(*) FROM check_runs JOIN releases ON releases.id = release_id "
             "WHERE releases.name = ? AND finished_at IS NULL")
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        with sqlite3.connect(bot.db_path) as db:
            if not db.execute(query, (RELEASE,)).fetchone()[0]:
                release_id = db.execute("SELECT id FROM releases WHERE name = ?",
                                        (RELEASE,)).fetchone()[0]
                break
        time.sleep(0.05)
    else:
        raise RuntimeError("checks still running")
    card = next(m for m in fake.messages(CHANNEL) if m.text.startswith(f"{RELEASE}:"))
    return int(release_id), card.as_slack()


def builders(fake: FakeSlackThread, release_id: int, card: dict[str, object],
             total: int) -> tuple[Build, Build]:
    """Body builders for `/readiness status` and a Sign click by UNOBODY<n> (not a member)."""
    urls = fake.on_loop(lambda f: [f.new_response_url(CHANNEL, f"UNOBODY{i % CONCURRENCY + 1}",
                                                      str(card["ts"])) for i in range(total)])
    (block, button), = find_elements(card["blocks"], f"sign:{ROLE}")  # type: ignore[arg-type]
    assert button["value"] == f'{{"r":{release_id},"role":"{ROLE}"}}', button["value"]
    channel = {"id": CHANNEL, "name": "releases"}

    def status(n: int) -> bytes:
        return payloads.slash_command(f"UNOBODY{n % CONCURRENCY + 1}", "status",
                                      channel_id=CHANNEL, channel_name="releases",
                                      response_url=urls[n], trigger_id=f"T{n}")

    def click(n: int) -> bytes:
        return payloads.block_actions(f"UNOBODY{n % CONCURRENCY + 1}", channel, card,
                                      element_action(block, button), response_url=urls[n],
                                      trigger_id=f"T{n}")
    return status, click


async def one(client: httpx.AsyncClient, url: str, body: bytes) -> tuple[float, int]:
    headers = {"Content-Type": payloads.FORM, **payloads.sign(SECRET, body)}
    start = time.perf_counter()
    answer = await client.post(url, content=body, headers=headers)
    return (time.perf_counter() - start) * 1000, answer.status_code


async def run_row(client: httpx.AsyncClient, url: str, builds: list[Build], counter: list[int],
                  fake: FakeSlackThread | None, warmup: bool = False) -> tuple[list[float], int]:
    """ROUNDS rounds of CONCURRENCY concurrent requests (one round if warmup)."""
    samples: list[float] = []
    errors = 0
    for _ in range(1 if warmup else ROUNDS):
        before = len(fake.responses()) if fake else 0
        bodies = [builds[i % len(builds)](counter[0] + i) for i in range(CONCURRENCY)]
        counter[0] += CONCURRENCY
        results = await asyncio.gather(*(one(client, f"{url}/slack/events", b) for b in bodies))
        samples += [ms for ms, _ in results]
        errors += sum(status != 200 for _, status in results)
        if fake:  # let the bot finish this round's after-ack work before the next round
            await asyncio.to_thread(fake.wait_for, lambda s, n=before + CONCURRENCY:
                                    len(s.responses()) >= n or None, 30)
    return samples, errors


def pct(samples: list[float]) -> tuple[float, float, float]:
    q = statistics.quantiles(samples, n=100, method="inclusive")
    return q[49], q[94], q[98]


async def measure(bare: dict[str, str], bot_url: str, status: Build, click: Build,
                  fake: FakeSlackThread) -> list[tuple[str, list[float], int]]:
    limits = httpx.Limits(max_connections=2 * CONCURRENCY,
                          max_keepalive_connections=2 * CONCURRENCY)
    counter = [0]
    async with httpx.AsyncClient(limits=limits, timeout=httpx.Timeout(30.0)) as client:
        rows = [(f"bare Bolt `process_before_response={mode}`", url, [status, click], None)
                for mode, url in bare.items()]
        rows += [("Readiness `/readiness status`", bot_url, [status], fake),
                 ("Readiness Sign click (refused)", bot_url, [click], fake)]
        for _, url, builds, watched in rows:  # warm-up: connections, auth.test, imports
            await run_row(client, url, builds, counter, watched, warmup=True)
        out = []
        for label, url, builds, watched in rows:
            samples, errors = await run_row(client, url, builds, counter, watched)
            out.append((label, samples, errors))
        return out


def table(results: list[tuple[str, list[float], int]]) -> str:
    base_p95 = pct(results[0][1])[1]
    lines = ["| row | requests | concurrency | p50 ms | p95 ms | p99 ms | p95 ratio vs bare Bolt "
             "default |", "|---|---:|---:|---:|---:|---:|---:|"]
    for label, samples, errors in results:
        p50, p95, p99 = pct(samples)
        note = f" ({errors} non-200)" if errors else ""
        lines.append(f"| {label} | {len(samples)}{note} | {CONCURRENCY} | {p50:.1f} | {p95:.1f} "
                     f"| {p99:.1f} | {p95 / base_p95:.2f}x |")
    return "\n".join(lines)


def main() -> int:
    started = time.monotonic()
    processes: list[subprocess.Popen[bytes]] = []
    with tempfile.TemporaryDirectory() as tmp, FakeSlackThread() as fake:
        fake.add_channel(CHANNEL, "releases")
        for user_id, name in USERS.items():
            fake.add_user(user_id, name)
        for i in range(1, CONCURRENCY + 1):
            fake.add_user(f"UNOBODY{i}", f"visitor{i}")
        target = ThreadedTarget().start()
        bot = Bot(fake, target, Path(tmp)).start()
        try:
            release_id, card = open_release(fake, bot)
            bare = {}
            for before in (False, True):
                url, process = start_bare(fake, before)
                bare[str(before)] = url
                processes.append(process)
            total = (ROUNDS + 1) * CONCURRENCY * 4
            status, click = builders(fake, release_id, card, total)
            results = asyncio.run(measure(bare, bot.url, status, click, fake))
        finally:
            for process in processes:
                process.terminate()
                process.wait(10)
            bot.stop()
            target.stop()
    print(table(results))
    worst = max(pct(s)[1] for label, s, _ in results if label.startswith("Readiness"))
    ratio = worst / pct(results[0][1])[1]
    verdict = "within" if ratio <= TARGET_RATIO else "misses"
    print(f"\nWorst Readiness p95 is {ratio:.2f}x bare Bolt default: {verdict} the "
          f"{TARGET_RATIO}x target.")
    print("Bare Bolt rows get the same bodies as Readiness, alternating status commands and "
          "Sign clicks.")
    print(f"Machine: nproc={os.cpu_count()} (usable {len(os.sched_getaffinity(0))}), "
          f"Python {platform.python_version()} ({platform.machine()}); "
          f"{ROUNDS} rounds x {CONCURRENCY} concurrent after a warm-up round; "
          f"client httpx {httpx.__version__}; took {time.monotonic() - started:.0f}s.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
