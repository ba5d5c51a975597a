"""`http` checks against the ideal wall time, and the `latency` probe next to wrk.

    cd /work/main && /work/venv/bin/python bench/checks.py

A local aiohttp target runs in its own process (so it shares no event loop with the
checks) and answers `/sleep/<ms>` after sleeping that long.

1. 200 `http` checks of a target answering in 100 ms, through the real `run_checks` and the
   shared client made by `checks.httpclient.check_http_client(concurrency)`, as the bot runs
   them. One warm-up run, then ROUNDS timed runs on the same client. The ideal is
   ceil(200 / concurrency) x 100 ms; the target is a wall time within 1.5x of it.
2. The `latency` check (through the registry and `run_checks`) and `wrk -t2 -c<n>
   --latency` against a target answering in 50 ms at the same concurrency, alternating,
   ROUNDS times each; medians are compared. wrk prints p50/p75/p90/p99 but no p95, so p50,
   p99 and the rate are compared like with like (target: within 15 %), and the probe's p95
   is placed against wrk's p90-p99 band.
3. For reference, the same loop through httpx at concurrency 50, one run each: why the
   probe does not use it (encode/httpx#3215; see checks/latency.py).

Speed is measured, never asserted: exits 0.
"""

from __future__ import annotations

import asyncio
import math
import multiprocessing as mp
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable
from multiprocessing.connection import Connection
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
HERE = str(Path(__file__).resolve().parent)
sys.path[:] = [p for p in sys.path if str(Path(p or ".").resolve()) != HERE]  # not checks.py
sys.path.insert(0, str(ROOT))

from checks import CheckContext, CheckJob, CheckResult, default_registry, run_checks  # noqa: E402
from checks.httpclient import check_http_client  # noqa: E402
from checks.latency import percentile  # noqa: E402

REGISTRY = default_registry()
HTTP_CHECKS, HTTP_MS, HTTP_CONCURRENCY, HTTP_TARGET = 200, 100, (20, 50), 1.5
PROBE_MS, PROBE_CONCURRENCY, PROBE_SECONDS, PROBE_TARGET = 50, (10, 50), 3, 0.15
ROUNDS = 3
WRK = shutil.which("wrk") or "/usr/bin/wrk"


def serve_target(conn: Connection) -> None:
    """The target, in a child process: binds port 0, sends the port, serves until killed."""
    from aiohttp import web

    async def sleep(request: web.Request) -> web.Response:
        await asyncio.sleep(int(request.match_info["ms"]) / 1000)
        return web.Response(text="ok")

    async def serve() -> None:
        app = web.Application()
        app.router.add_get("/sleep/{ms:\\d+}", sleep)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0, backlog=1024)
        await site.start()
        conn.send(runner.addresses[0][1])
        await asyncio.Event().wait()

    asyncio.run(serve())


# 1. http checks -------------------------------------------------------------------------


async def http_rounds(url: str, concurrency: int) -> list[tuple[float, int]]:
    """(wall seconds, checks passed) of each timed run; a warm-up run first."""
    jobs = [
        CheckJob(f"http{i}", REGISTRY.parse({"type": "http", "url": url}))
        for i in range(HTTP_CHECKS)
    ]
    runs = []
    async with check_http_client(concurrency) as client:
        ctx = CheckContext(client)
        for _ in range(ROUNDS + 1):
            started = time.perf_counter()
            results = [r async for r in run_checks(jobs, REGISTRY, ctx, concurrency)]
            runs.append((time.perf_counter() - started, sum(r.status == "pass" for r in results)))
    return runs[1:]


def http_table(base: str) -> list[str]:
    lines = [
        f"`http` checks: {HTTP_CHECKS} against a target answering in {HTTP_MS} ms, "
        f"{ROUNDS} runs after a warm-up",
        "",
        "| concurrency | ideal | wall (median) | wall (min-max) | wall / ideal | "
        f"within {HTTP_TARGET}x |",
        "|---:|---:|---:|---:|---:|---|",
    ]
    for concurrency in HTTP_CONCURRENCY:
        runs = asyncio.run(http_rounds(f"{base}/sleep/{HTTP_MS}", concurrency))
        walls = [wall * 1000 for wall, _ in runs]
        ideal = math.ceil(HTTP_CHECKS / concurrency) * HTTP_MS
        median = statistics.median(walls)
        failed = sum(HTTP_CHECKS - passed for _, passed in runs)
        note = f" ({failed} checks did not pass)" if failed else ""
        lines.append(
            f"| {concurrency} | {ideal} ms | {median:.0f} ms | {min(walls):.0f}-{max(walls):.0f} "
            f"ms | {median / ideal:.2f}x | {'yes' if median <= HTTP_TARGET * ideal else 'no'}"
            f"{note} |"
        )
    return lines


# 2. latency probe vs wrk -------------------------------------------------------------------

Figures = dict[str, float]  # p50, p75, p90, p95, p99 (ms), rps


async def probe(url: str, concurrency: int) -> Figures:
    raw = {
        "type": "latency",
        "url": url,
        "requests": concurrency * PROBE_SECONDS * (1000 // PROBE_MS),
        "concurrency": concurrency,
        "min_rps": 1,
        "timeout": "120s",
    }
    async with check_http_client(20) as client:  # the bot's default shared client
        results: list[CheckResult] = [
            r
            async for r in run_checks(
                [CheckJob("latency", REGISTRY.parse(raw))], REGISTRY, CheckContext(client)
            )
        ]
    (result,) = results
    if result.status != "pass":
        raise RuntimeError(f"the latency check did not pass: {result.reason}")
    v = result.values
    return {"p50": v["p50_ms"], "p95": v["p95_ms"], "p99": v["p99_ms"], "rps": v["rps"]}


def to_ms(value: str, unit: str) -> float:
    return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0}[unit]


def wrk(url: str, concurrency: int) -> Figures:
    command = [WRK, "-t2", f"-c{concurrency}", f"-d{PROBE_SECONDS}s", "--latency", url]
    out = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    figures = {
        f"p{pct}": to_ms(value, unit)
        for pct, value, unit in re.findall(r"^\s+(\d+)%\s+([\d.]+)(us|ms|s|m)\s*$", out, re.M)
    }
    figures["rps"] = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    if "Non-2xx" in out or "Socket errors" in out:
        raise RuntimeError(f"wrk saw errors:\n{out}")
    return figures


def medians(runs: list[Figures]) -> Figures:
    return {key: statistics.median(run[key] for run in runs) for key in runs[0]}


def verdict(ratio: float) -> str:
    return "yes" if abs(ratio - 1) <= PROBE_TARGET else "no"


def probe_table(base: str) -> list[str]:
    url = f"{base}/sleep/{PROBE_MS}"
    pct = f"{PROBE_TARGET:.0%}".replace("%", " %")
    lines = [
        f"`latency` probe vs `wrk -t2 -c<n> -d{PROBE_SECONDS}s --latency`: target answering "
        f"in {PROBE_MS} ms, medians of {ROUNDS} alternating runs of ~{PROBE_SECONDS} s each",
        "",
        f"| concurrency | figure | probe | wrk | probe / wrk | within {pct} |",
        "|---:|---|---:|---:|---:|---|",
    ]
    for concurrency in PROBE_CONCURRENCY:
        probes, wrks = [], []
        for _ in range(ROUNDS):
            probes.append(asyncio.run(probe(url, concurrency)))
            wrks.append(wrk(url, concurrency))
        ours, theirs = medians(probes), medians(wrks)
        for key in ("p50", "p95", "p99", "rps"):
            label = "req/s" if key == "rps" else f"{key} ms"
            if key == "p95":  # wrk has none: is ours inside wrk's p90-p99, widened by 15 %?
                low, high = theirs["p90"] / (1 + PROBE_TARGET), theirs["p99"] * (1 + PROBE_TARGET)
                inside = "yes" if low <= ours["p95"] <= high else "no"
                lines.append(
                    f"| {concurrency} | {label} | {ours[key]:.1f} | p90-p99: "
                    f"{theirs['p90']:.1f}-{theirs['p99']:.1f} | - | {inside} (band ±15 %) |"
                )
                continue
            ratio = ours[key] / theirs[key]
            lines.append(
                f"| {concurrency} | {label} | {ours[key]:.1f} | {theirs[key]:.1f} | "
                f"{ratio:.2f} | {verdict(ratio)} |"
            )
    return lines


# 3. the same loop through httpx, for reference ---------------------------------------------

Get = Callable[[int], Awaitable[int]]  # worker number -> HTTP status


async def drive(get: Get, concurrency: int, requests: int) -> Figures:
    """The probe's loop: one untimed request per worker, then all start together."""
    timings: list[float] = []
    remaining = iter(range(requests))
    go = asyncio.Event()

    async def worker(n: int) -> None:
        await get(n)
        await go.wait()
        for _ in remaining:
            started = time.perf_counter()
            await get(n)
            timings.append((time.perf_counter() - started) * 1000)

    tasks = [asyncio.ensure_future(worker(n)) for n in range(concurrency)]
    await asyncio.sleep(1)  # every worker has opened its connection
    began = time.perf_counter()
    go.set()
    await asyncio.gather(*tasks)
    wall = time.perf_counter() - began
    timings.sort()
    return {f"p{p}": percentile(timings, p) for p in (50, 95, 99)} | {"rps": len(timings) / wall}


async def through_httpx(url: str, concurrency: int, per_connection: bool) -> Figures:
    requests = concurrency * PROBE_SECONDS * (1000 // PROBE_MS)
    pools = concurrency if per_connection else 1
    size = 1 if per_connection else concurrency
    limits = httpx.Limits(max_connections=size, max_keepalive_connections=size)
    clients = [httpx.AsyncClient(limits=limits, follow_redirects=False) for _ in range(pools)]
    try:

        async def get(n: int) -> int:
            return (await clients[n % pools].get(url)).status_code

        return await drive(get, concurrency, requests)
    finally:
        for client in clients:
            await client.aclose()


def httpx_table(base: str) -> list[str]:
    url, concurrency = f"{base}/sleep/{PROBE_MS}", max(PROBE_CONCURRENCY)
    rows = [
        (f"httpx, one client, pool of {concurrency}", False),
        ("httpx, one client per connection", True),
    ]
    theirs = wrk(url, concurrency)
    lines = [
        f"For reference, the probe's loop through httpx at concurrency {concurrency}, one run "
        "each (encode/httpx#3215)",
        "",
        "| client | p50 ms | p99 ms | req/s | p99 / wrk's |",
        "|---|---:|---:|---:|---:|",
        f"| wrk | {theirs['p50']:.1f} | {theirs['p99']:.1f} | {theirs['rps']:.0f} | 1.00 |",
    ]
    for label, per_connection in rows:
        ours = asyncio.run(through_httpx(url, concurrency, per_connection))
        lines.append(
            f"| {label} | {ours['p50']:.1f} | {ours['p99']:.1f} | {ours['rps']:.0f} | "
            f"{ours['p99'] / theirs['p99']:.2f} |"
        )
    return lines


def main() -> int:
    if not Path(WRK).exists():
        print("wrk is not installed (apt-get install wrk): cannot compare the probe with it")
        return 0
    started = time.monotonic()
    conn, child_conn = mp.Pipe()
    target = mp.get_context("spawn").Process(target=serve_target, args=(child_conn,))
    target.start()
    try:
        if not conn.poll(30):
            raise RuntimeError("the target did not start")
        base = f"http://127.0.0.1:{conn.recv()}"
        sections = [http_table(base), probe_table(base), httpx_table(base)]
    finally:
        target.terminate()
        target.join(10)
    print("\n\n".join("\n".join(lines) for lines in sections))
    print(
        f"\nMachine: nproc={os.cpu_count()}, Python {platform.python_version()} "
        f"({platform.machine()}), httpx {httpx.__version__}; target: aiohttp in its own "
        f"process; took {time.monotonic() - started:.0f}s."
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
