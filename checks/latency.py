"""`latency`: drives `requests` requests at `concurrency` and judges p95 and throughput.

The figures must be the target's, not the probe's; bench/checks.py sets them next to wrk's.
How, and why (measured on 2 cores, a local target answering in 50 ms, concurrency 50,
where wrk reports p50 53 ms, p99 56 ms, 930 req/s):

- The load does not go through the shared httpx client. Its pool is sized to the check
  concurrency (20 by default), so a probe at 50 would time its wait for a free connection.
- Nor through any httpx client: httpcore's pool takes a lock and rescans every connection
  on each request (encode/httpx#3215). One client with a pool of 50 gave ~140 req/s and a
  p99 of ~2 s; one client per connection gave ~850 req/s but cost ~0.8 ms of CPU per
  request, kept the event loop ~75 % busy and put p99 at 1.7-2.3x wrk's.
- It goes through its own aiohttp session, opened and closed per run, with exactly one
  keep-alive connection per worker (wrk keeps one per `-c`), so no request waits for a
  connection. aiohttp costs ~0.15 ms per request: ~15 % of a core at 1000 req/s. It
  connects directly: with `trust_env` it would look up proxies and netrc in a thread on
  every request (~0.5 ms), and a proxy's latency is not the target's.
- First, one GET through the shared client: an unreachable target gets the same
  plain-words error as the `http` check, and a redirecting URL a clear failure, before
  any load is sent. Redirects are not followed: a 3xx answer counts as a failure.
- Then each worker opens its connection with one untimed request, and the clock starts
  when all are open: the figures are steady-state, without connects or TLS handshakes,
  as wrk's are. Those requests' answers and errors are counted like the others.
- A request's latency runs from sending it to reading its body (at most `max_body_bytes`,
  not decompressed). The rate is timed answers over the time from start to last answer.
"""

from __future__ import annotations

import asyncio
import time
from typing import Literal

import aiohttp
import httpx
from pydantic import Field, model_validator

from checks.base import CheckContext, CheckParams, CheckType, Outcome
from checks.httpfetch import describe_error, short_url


class LatencyParams(CheckParams):
    type: Literal["latency"] = "latency"
    url: str = Field(pattern=r"^https?://")
    requests: int = Field(default=200, ge=1, le=100_000)
    concurrency: int = Field(default=10, ge=1, le=1000)
    p95_ms: float | None = Field(default=None, gt=0)
    min_rps: float | None = Field(default=None, gt=0)

    @model_validator(mode="after")
    def _a_target(self) -> LatencyParams:
        if self.p95_ms is None and self.min_rps is None:
            raise ValueError("give p95_ms, min_rps or both")
        return self


def percentile(sorted_ms: list[float], pct: float) -> float:
    """Nearest-rank percentile of an ascending list."""
    rank = max(1, min(len(sorted_ms), round(pct / 100 * len(sorted_ms) + 0.5)))
    return sorted_ms[rank - 1]


def _session(params: LatencyParams, ctx: CheckContext, workers: int) -> aiohttp.ClientSession:
    """A session with one connection per worker, the shared client's timeouts and User-Agent,
    and its certificate checks (httpx's default trust store)."""
    timeout = ctx.http.timeout
    connector = aiohttp.TCPConnector(
        limit=workers,
        limit_per_host=workers,
        ssl=httpx.create_ssl_context() if params.url.startswith("https:") else True,
    )
    user_agent = ctx.http.headers.get("User-Agent")
    return aiohttp.ClientSession(
        connector=connector,
        timeout=aiohttp.ClientTimeout(sock_connect=timeout.connect, sock_read=timeout.read),
        headers={"User-Agent": user_agent} if user_agent else None,
        auto_decompress=False,
    )


async def _get(session: aiohttp.ClientSession, url: str, max_body_bytes: int) -> int:
    async with session.get(url, allow_redirects=False) as response:
        size = 0
        async for chunk in response.content.iter_any():
            size += len(chunk)
            if size >= max_body_bytes:
                break
        return response.status


def _describe(url: str, exc: Exception) -> str:
    if isinstance(exc, TimeoutError):
        return f"GET {short_url(url)}: no answer in time"
    return f"GET {short_url(url)}: {type(exc).__name__}: {exc}"


async def _preflight(params: LatencyParams, ctx: CheckContext) -> Outcome | None:
    """One request through the shared client; an Outcome if the load should not be sent."""
    try:
        async with ctx.http.stream("GET", params.url, follow_redirects=False) as response:
            if response.is_redirect:
                where = response.headers.get("Location", "elsewhere")
                return Outcome.failed(
                    f"GET {short_url(params.url)} redirects ({response.status_code}) to "
                    f"{where}: give the final URL",
                    statuses={response.status_code: 1},
                )
    except httpx.HTTPError as exc:
        return Outcome.errored(describe_error("GET", params.url, exc))
    return None


async def run(params: LatencyParams, ctx: CheckContext) -> Outcome:
    stop = await _preflight(params, ctx)
    if stop is not None:
        return stop
    timings: list[float] = []
    errors: list[str] = []
    statuses: dict[int, int] = {}
    remaining = iter(range(params.requests))
    workers = min(params.concurrency, params.requests)
    opened, began = 0, 0.0
    go = asyncio.Event()

    warmup_errors: list[str] = []

    async def request(session: aiohttp.ClientSession, counted: bool = True) -> bool:
        try:
            status = await _get(session, params.url, ctx.max_body_bytes)
        except (aiohttp.ClientError, TimeoutError) as exc:
            (errors if counted else warmup_errors).append(_describe(params.url, exc))
            return False
        if counted:
            statuses[status] = statuses.get(status, 0) + 1
        return True

    async def worker(session: aiohttp.ClientSession) -> None:
        nonlocal opened, began
        try:
            await request(session, counted=False)  # opens this worker's connection
        finally:
            opened += 1
            if opened == workers:
                began = time.perf_counter()
                go.set()
        await go.wait()
        for _ in remaining:
            started = time.perf_counter()
            if await request(session):
                timings.append((time.perf_counter() - started) * 1000)

    async with _session(params, ctx, workers) as session:
        tasks = [asyncio.ensure_future(worker(session)) for _ in range(workers)]
        try:
            await asyncio.gather(*tasks)
        finally:
            for task in tasks:
                task.cancel()
        wall = time.perf_counter() - began
    if not timings:
        first = (errors or warmup_errors or ["no request completed"])[0]
        return Outcome.errored(first)
    timings.sort()
    p50, p95, p99 = (percentile(timings, p) for p in (50, 95, 99))
    rps = len(timings) / wall if wall > 0 else float("inf")
    values = {
        "p50_ms": round(p50, 1),
        "p95_ms": round(p95, 1),
        "p99_ms": round(p99, 1),
        "rps": round(rps, 1),
        "requests": len(timings),
        "errors": len(errors),
        "statuses": statuses,
    }
    problems = []
    if params.p95_ms is not None and p95 > params.p95_ms:
        problems.append(f"p95 {p95:.0f} ms > {params.p95_ms:g} ms")
    if params.min_rps is not None and rps < params.min_rps:
        problems.append(f"{rps:.0f} req/s < {params.min_rps:g} req/s")
    non_2xx = sum(n for code, n in statuses.items() if not 200 <= code < 300)
    if errors or non_2xx:
        first = f" (first: {errors[0]})" if errors else ""
        problems.append(f"{len(errors) + non_2xx} request(s) failed{first}")
    summary = f"over {len(timings)} requests at concurrency {params.concurrency}"
    if problems:
        return Outcome.failed(f"{'; '.join(problems)} {summary}", **values)
    return Outcome.passed(f"p95 {p95:.0f} ms, {rps:.0f} req/s {summary}", **values)


CHECK = CheckType("latency", LatencyParams, run)
