"""Runs many checks concurrently, each under its own hard timeout, yielding results as they land."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from checks.base import CheckContext, CheckParams, Outcome, Status
from checks.durations import format_duration
from checks.registry import Registry


@dataclass(frozen=True)
class CheckJob:
    key: str  # the checklist item id
    params: CheckParams


@dataclass(frozen=True)
class CheckResult:
    key: str
    status: Status
    reason: str
    values: dict[str, Any] = field(default_factory=dict)
    duration_ms: float = 0.0


async def _run_one(
    job: CheckJob, registry: Registry, ctx: CheckContext, limit: asyncio.Semaphore
) -> CheckResult:
    async with limit:
        started = time.perf_counter()
        try:
            check_type = registry.get(job.params.type)
            async with asyncio.timeout(job.params.timeout.total_seconds()):
                outcome = await check_type.run(job.params, ctx)
        except TimeoutError:
            outcome = Outcome.errored(
                f"no result within the {format_duration(job.params.timeout)} timeout"
            )
        except Exception as exc:  # a check must never take the run down with it
            outcome = Outcome.errored(f"the check itself failed: {type(exc).__name__}: {exc}")
        elapsed = (time.perf_counter() - started) * 1000
        return CheckResult(job.key, outcome.status, outcome.reason, outcome.values, elapsed)


async def run_checks(
    jobs: Sequence[CheckJob], registry: Registry, ctx: CheckContext, concurrency: int = 20
) -> AsyncIterator[CheckResult]:
    """Yield each job's result as soon as it is known, never more than `concurrency` at once."""
    limit = asyncio.Semaphore(concurrency)
    tasks = [asyncio.ensure_future(_run_one(job, registry, ctx, limit)) for job in jobs]
    try:
        for next_done in asyncio.as_completed(tasks):
            yield await next_done
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
