"""The background runner: acks first, replies after, and nothing starves or is lost."""

from __future__ import annotations

import asyncio

from bot.services.tasks import TaskRunner


def recorder(log: list[str], name: str):  # type: ignore[no-untyped-def]
    async def work() -> None:
        log.append(name)

    return work()


async def test_work_waits_while_a_request_is_being_answered() -> None:
    tasks, log = TaskRunner(settle=0.02, yield_limit=10), []
    with tasks.answering():
        tasks.spawn(recorder(log, "reply"))
        await asyncio.sleep(0.1)
        log.append("ack")
    await tasks.drain()
    assert log == ["ack", "reply"]


async def test_a_burst_is_acknowledged_before_any_of_its_work_starts() -> None:
    tasks, log = TaskRunner(settle=0.05, yield_limit=10), []
    for n in range(5):  # requests 10 ms apart: each arrives within the settle time
        with tasks.answering():
            tasks.spawn(recorder(log, f"reply {n}"))
            log.append(f"ack {n}")
        await asyncio.sleep(0.01)
    await tasks.drain()
    assert log == [f"ack {n}" for n in range(5)] + [f"reply {n}" for n in range(5)]


async def test_sustained_requests_never_hold_work_past_the_yield_limit() -> None:
    tasks, log = TaskRunner(settle=0.05, yield_limit=0.2), []
    with tasks.answering():  # a request that never ends: the load never pauses
        done = tasks.spawn(recorder(log, "reply"))
        await asyncio.wait_for(done, timeout=5)
        assert log == ["reply"]


async def test_without_requests_work_starts_at_once() -> None:
    tasks, log = TaskRunner(settle=10, yield_limit=10), []
    await asyncio.wait_for(tasks.spawn(recorder(log, "reply")), timeout=5)
    assert log == ["reply"]


async def test_unbounded_work_does_not_wait_for_acks() -> None:
    tasks, log = TaskRunner(settle=10, yield_limit=10), []
    with tasks.answering():
        await asyncio.wait_for(tasks.spawn(recorder(log, "check run"), bounded=False), 5)
        assert log == ["check run"]


async def test_failures_reach_the_error_handler() -> None:
    tasks, told = TaskRunner(), []

    async def broken() -> None:
        raise ValueError("boom")

    async def on_error(exc: BaseException) -> None:
        told.append(str(exc))

    await asyncio.wait_for(tasks.spawn(broken(), on_error=on_error), 5)
    assert told == ["boom"]


async def test_work_still_yields_after_the_settler_was_cancelled() -> None:
    tasks, log = TaskRunner(settle=0.02, yield_limit=10), []
    with tasks.answering():
        pass
    await tasks.drain()  # at shutdown: cancels the settler before it opened the way
    with tasks.answering():
        tasks.spawn(recorder(log, "reply"))
        await asyncio.sleep(0.05)
        log.append("ack")
    await tasks.drain()
    assert log == ["ack", "reply"]


async def test_drain_waits_for_work_started_by_work_it_is_waiting_for() -> None:
    """A tick that starts a monitoring run: the run is drained too, not left running into
    a closed database."""
    tasks, log = TaskRunner(), []

    async def run() -> None:
        await asyncio.sleep(0.05)
        log.append("run")

    async def tick() -> None:
        tasks.spawn(run(), bounded=False)
        log.append("tick")

    tasks.spawn(tick(), bounded=False)
    await tasks.drain()
    assert log == ["tick", "run"] and tasks.pending == 0


async def test_drain_cancels_what_outlasts_it() -> None:
    tasks = TaskRunner()
    forever = tasks.spawn(asyncio.sleep(3600), bounded=False)
    await tasks.drain(timeout=0.05)
    assert forever.cancelled() and tasks.pending == 0


async def test_what_drain_cancels_sees_that_it_is_stopping() -> None:
    """A check run cancelled by the drain at shutdown hands itself over; cancelled
    otherwise (Ctrl-C on `readiness check`), it is finished short."""
    tasks, seen = TaskRunner(), []

    async def run() -> None:
        try:
            await asyncio.sleep(3600)
        except asyncio.CancelledError:
            seen.append(tasks.stopping)
            raise

    first = tasks.spawn(run(), bounded=False)
    await asyncio.sleep(0.01)
    first.cancel()
    await asyncio.gather(first, return_exceptions=True)
    tasks.spawn(run(), bounded=False)
    await asyncio.sleep(0.01)
    await tasks.drain(timeout=0.05)
    assert seen == [False, True] and not tasks.stopping
