"""The shared check client: small pools behind one client, each connection given back."""

from __future__ import annotations

import asyncio

import httpx

from checks import CheckContext, CheckJob, Status, default_registry, run_checks
from checks.httpclient import ShardedTransport, check_http_client


async def test_pools_fill_evenly_and_every_connection_is_given_back(target: str) -> None:
    transport = ShardedTransport(30, per_pool=10)
    assert transport._pools == []  # made for the first request, not at start
    async with httpx.AsyncClient(transport=transport) as client:
        async with asyncio.TaskGroup() as group:
            answers = [group.create_task(client.get(f"{target}/api/health")) for _ in range(60)]
        assert {a.result().status_code for a in answers} == {200}
        assert transport._busy == [0, 0, 0] and len(transport._pools) == 3

        async with client.stream("GET", f"{target}/huge") as response:  # left unread
            assert response.status_code == 200
            assert sorted(transport._busy) == [0, 0, 1]
        assert transport._busy == [0, 0, 0]


async def test_checks_through_the_shared_client_time_out_and_release(target: str) -> None:
    registry = default_registry()
    jobs = [
        CheckJob(
            "hang", registry.parse({"type": "http", "url": f"{target}/hang", "timeout": "300ms"})
        ),
        *(
            CheckJob(f"ok{n}", registry.parse({"type": "http", "url": f"{target}/api/health"}))
            for n in range(20)
        ),
    ]
    async with check_http_client(20) as client:
        results = {r.key: r async for r in run_checks(jobs, registry, CheckContext(client), 20)}
        transport = client._transport
        assert isinstance(transport, ShardedTransport) and len(transport._pools) == 2
        assert transport._busy == [0, 0]
    assert results["hang"].status is Status.ERROR
    assert all(results[f"ok{n}"].status is Status.PASS for n in range(20))
