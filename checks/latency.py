"""`latency`: drives `requests` requests at `concurrency` and judges p95 and throughput."""

from __future__ import annotations

import asyncio
import time
from typing import Literal

import httpx
from pydantic import Field, model_validator

from checks.base import CheckContext, CheckParams, CheckType, Outcome
from checks.httpfetch import describe_error


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


async def run(params: LatencyParams, ctx: CheckContext) -> Outcome:
    timings: list[float] = []
    errors: list[str] = []
    statuses: dict[int, int] = {}
    remaining = iter(range(params.requests))

    async def worker() -> None:
        for _ in remaining:
            started = time.perf_counter()
            try:
                response = await ctx.http.get(params.url)
            except httpx.HTTPError as exc:
                errors.append(describe_error("GET", params.url, exc))
                continue
            timings.append((time.perf_counter() - started) * 1000)
            statuses[response.status_code] = statuses.get(response.status_code, 0) + 1

    began = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(min(params.concurrency, params.requests))))
    wall = time.perf_counter() - began
    if not timings:
        return Outcome.errored(errors[0] if errors else "no request completed")
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
        problems.append(f"{len(errors) + non_2xx} request(s) failed")
    summary = f"over {len(timings)} requests at concurrency {params.concurrency}"
    if problems:
        return Outcome.failed(f"{'; '.join(problems)} {summary}", **values)
    return Outcome.passed(f"p95 {p95:.0f} ms, {rps:.0f} req/s {summary}", **values)


CHECK = CheckType("latency", LatencyParams, run)
