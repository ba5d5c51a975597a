"""http and headers checks, and the runner, against real local servers."""

from __future__ import annotations

import socket
import time

from checks import CheckContext, CheckJob, Status, default_registry, run_checks
from checks.base import CheckParams

REGISTRY = default_registry()


def params(**raw: object) -> CheckParams:
    return REGISTRY.parse(raw)


async def run(ctx: CheckContext, **raw: object):
    (result,) = [r async for r in run_checks([CheckJob("x", params(**raw))], REGISTRY, ctx)]
    return result


async def test_healthy_endpoint_passes(target: str, ctx: CheckContext) -> None:
    result = await run(
        ctx,
        type="http",
        url=f"{target}/api/health",
        expect_json={"status": "ok", "checks": {"db": "ok"}},
    )
    assert result.status is Status.PASS
    assert result.reason == "GET /api/health answered 200 OK"
    assert result.values == {"status": 200}


async def test_failing_endpoint_says_what_it_answered(target: str, ctx: CheckContext) -> None:
    result = await run(ctx, type="http", url=f"{target}/api/health/db")
    assert result.status is Status.FAIL
    assert result.reason == "GET /api/health/db answered 503 Service Unavailable, expected 200"


async def test_json_and_body_expectations(target: str, ctx: CheckContext) -> None:
    wrong = await run(
        ctx, type="http", url=f"{target}/api/health", expect_json={"checks": {"db": "degraded"}}
    )
    assert wrong.status is Status.FAIL and 'checks.db is "ok", expected "degraded"' in wrong.reason
    body = await run(ctx, type="http", url=f"{target}/plain", expect_body="^bye")
    assert body.status is Status.FAIL and "does not match" in body.reason
    listed = await run(ctx, type="http", url=f"{target}/api/health/db", expect_status=[200, 503])
    assert listed.status is Status.PASS


async def test_refused_connection_is_an_error(ctx: CheckContext) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    result = await run(ctx, type="http", url=f"http://127.0.0.1:{port}/api/health")
    assert result.status is Status.ERROR
    assert "connection refused" in result.reason


async def test_hanging_and_dripping_servers_hit_the_timeout(target: str, ctx: CheckContext) -> None:
    started = time.monotonic()
    results = [
        r
        async for r in run_checks(
            [
                CheckJob("hang", params(type="http", url=f"{target}/hang", timeout="500ms")),
                CheckJob("drip", params(type="http", url=f"{target}/drip", timeout="1s")),
            ],
            REGISTRY,
            ctx,
        )
    ]
    assert time.monotonic() - started < 5  # generous: the point is it ends
    by_key = {r.key: r for r in results}
    assert by_key["hang"].status is Status.ERROR
    assert by_key["hang"].reason == "no result within the 500ms timeout"
    assert by_key["drip"].reason == "no result within the 1s timeout"


async def test_endless_redirects_and_huge_bodies_are_bounded(
    target: str, ctx: CheckContext
) -> None:
    loop = await run(ctx, type="http", url=f"{target}/loop")
    assert loop.status is Status.ERROR and "redirected too many times" in loop.reason
    huge = await run(ctx, type="http", url=f"{target}/huge", expect_body="y", timeout="20s")
    assert huge.status is Status.FAIL  # read 1 MB, not a gigabyte


async def test_headers_check(target: str, ctx: CheckContext) -> None:
    good = await run(
        ctx,
        type="headers",
        url=f"{target}/api/health",
        require={"x-frame-options": "DENY", "X-Content-Type-Options": "/nosniff/"},
        present=["Strict-Transport-Security"],
        absent=["Server-Timing"],
    )
    assert good.status is Status.PASS, good.reason
    bad = await run(
        ctx,
        type="headers",
        url=f"{target}/plain",
        require={"X-Frame-Options": "DENY"},
        present=["Content-Security-Policy"],
    )
    assert bad.status is Status.FAIL
    assert bad.reason == (
        "GET /plain: X-Frame-Options is 'SAMEORIGIN', expected 'DENY'; "
        "Content-Security-Policy missing"
    )


async def test_results_arrive_as_they_finish_concurrently(target: str, ctx: CheckContext) -> None:
    jobs = [CheckJob("slow", params(type="http", url=f"{target}/hang", timeout="1s"))] + [
        CheckJob(f"fast{i}", params(type="http", url=f"{target}/api/health")) for i in range(5)
    ]
    order = [r.key async for r in run_checks(jobs, REGISTRY, ctx, concurrency=3)]
    assert order[-1] == "slow" and len(order) == 6
