"""Work that runs after Slack has been answered: bounded, tracked, never silently lost."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Coroutine, Iterator
from typing import Any

log = logging.getLogger(__name__)

ErrorHandler = Callable[[BaseException], Awaitable[None]]


class TaskRunner:
    """Runs coroutines in the background, at most `limit` at a time.

    Acks come first: bounded work starts once Slack's requests have paused for `settle`
    seconds (see `answering`), or after `yield_limit` seconds at the latest. A burst of
    requests is acknowledged before their replies are worked out, and sustained load
    still gets its replies (and a trigger_id, valid 3 s, its modal). The bound keeps the
    work that does run from crowding the event loop ahead of the next request's ack.
    """

    def __init__(self, limit: int = 8, settle: float = 0.01, yield_limit: float = 0.5) -> None:
        self._limit = asyncio.Semaphore(limit)
        self._tasks: set[asyncio.Task[None]] = set()
        self.settle, self.yield_limit = settle, yield_limit
        self._answering = 0
        self._last = 0.0  # loop time the latest request arrived
        self._quiet = asyncio.Event()
        self._quiet.set()
        self._settler: asyncio.Task[None] | None = None
        self.stopping = False  # True while drained (at shutdown): what it cancels is cut short

    @contextlib.contextmanager
    def answering(self) -> Iterator[None]:
        """Around the handling of one request from Slack, up to its ack."""
        now = asyncio.get_running_loop().time()  # raises before anything is counted
        self._answering += 1
        self._last = now
        self._quiet.clear()
        try:
            yield
        finally:
            self._answering -= 1
            if not self._answering and (self._settler is None or self._settler.done()):
                self._settler = asyncio.create_task(self._settle())

    async def _settle(self) -> None:
        """Opens the way for waiting work once no request has arrived for `settle` s."""
        loop = asyncio.get_running_loop()
        try:
            while not self._answering:
                wait = self._last + self.settle - loop.time()
                if wait <= 0:
                    self._quiet.set()
                    return
                await asyncio.sleep(wait)
        finally:
            self._settler = None

    async def _after_acks(self) -> None:
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(self.yield_limit):
                await self._quiet.wait()

    def spawn(
        self,
        work: Coroutine[Any, Any, Any],
        on_error: ErrorHandler | None = None,
        bounded: bool = True,
    ) -> asyncio.Task[None]:
        task = asyncio.create_task(self._run(work, on_error, bounded))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    async def _run(
        self, work: Coroutine[Any, Any, Any], on_error: ErrorHandler | None, bounded: bool
    ) -> None:
        try:
            if bounded:
                await self._after_acks()
                async with self._limit:
                    await work
            else:
                await work
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            if on_error is None:
                log.exception("background work failed")
                return
            try:
                await on_error(exc)
            except Exception:
                log.exception("reporting a background failure failed too")

    @property
    def pending(self) -> int:
        return len(self._tasks)

    async def drain(self, timeout: float = 10.0) -> None:
        """Wait for running work (at shutdown), and for the work it starts meanwhile, up
        to TIMEOUT seconds; then cancel what is left."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        self.stopping = True
        try:
            while self._tasks and (left := deadline - loop.time()) > 0:
                await asyncio.wait(set(self._tasks), timeout=left)
            still = set(self._tasks)
            for task in still:
                task.cancel()
            await asyncio.gather(*still, return_exceptions=True)
        finally:
            self.stopping = False
        if self._settler is not None:
            self._settler.cancel()
