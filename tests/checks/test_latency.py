"""The latency check against a real local server (its figures next to wrk's: bench/checks.py)."""

from __future__ import annotations

import socket

from checks import CheckContext, CheckJob, CheckResult, Status, default_registry, run_checks

REGISTRY = default_registry()


async def run(ctx: CheckContext, **raw: object) -> CheckResult:
    job = CheckJob("x", REGISTRY.parse({"type": "latency", **raw}))
    (result,) = [r async for r in run_checks([job], REGISTRY, ctx)]
    return result


async def test_a_fast_endpoint_passes_with_its_figures(target: str, ctx: CheckContext) -> None:
    result = await run(ctx, url=f"{target}/api/health", requests=50, concurrency=20, p95_ms=2000)
    assert result.status is Status.PASS, result.reason
    assert set(result.values) == {
        "p50_ms",
        "p95_ms",
        "p99_ms",
        "rps",
        "requests",
        "errors",
        "statuses",
    }
    v = result.values
    assert v["requests"] == 50 and v["errors"] == 0
    assert v["statuses"] == {200: 50}  # not the untimed request that opens each connection
    assert 0 < v["p50_ms"] <= v["p95_ms"] <= v["p99_ms"] and v["rps"] > 0
    assert result.reason.endswith("over 50 requests at concurrency 20")


async def test_missed_targets_and_failed_answers_fail(target: str, ctx: CheckContext) -> None:
    slow = await run(ctx, url=f"{target}/api/health", requests=10, min_rps=100_000)
    assert slow.status is Status.FAIL and "req/s < 100000 req/s" in slow.reason
    down = await run(ctx, url=f"{target}/api/health/db", requests=10, concurrency=2, p95_ms=2000)
    assert down.status is Status.FAIL
    assert down.reason.startswith("10 request(s) failed over 10 requests")
    assert down.values["statuses"] == {503: 10}


async def test_redirects_are_not_followed(target: str, ctx: CheckContext) -> None:
    result = await run(ctx, url=f"{target}/loop", p95_ms=1000)
    assert result.status is Status.FAIL
    assert result.reason == "GET /loop redirects (302) to /loop: give the final URL"


async def test_an_unreachable_target_is_an_error_and_gets_no_load(ctx: CheckContext) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    result = await run(ctx, url=f"http://127.0.0.1:{port}/", p95_ms=100)
    assert result.status is Status.ERROR
    assert "connection refused" in result.reason
