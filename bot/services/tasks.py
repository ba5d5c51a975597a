"""Work that runs after Slack has been answered: bounded, tracked, never silently lost."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any

log = logging.getLogger(__name__)

ErrorHandler = Callable[[BaseException], Awaitable[None]]


class TaskRunner:
    """Runs coroutines in the background, at most `limit` at a time.

    The bound keeps acknowledgements fast under load: queued work waits its turn
    instead of crowding the event loop ahead of the next request's ack.
    """

    def __init__(self, limit: int = 8) -> None:
        self._limit = asyncio.Semaphore(limit)
        self._tasks: set[asyncio.Task[None]] = set()

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
        """Wait for running work (at shutdown), then cancel what is left."""
        if self._tasks:
            _, still = await asyncio.wait(set(self._tasks), timeout=timeout)
            for task in still:
                task.cancel()
            await asyncio.gather(*still, return_exceptions=True)
