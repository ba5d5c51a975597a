"""An asyncio event loop on a daemon thread: what FakeSlackThread and SocketModeServer run
on, so that synchronous tests and the demo can use them."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Coroutine
from typing import Any, TypeVar

T = TypeVar("T")


class LoopThread:
    """`start()` runs a new event loop on a daemon thread named `name`; `run(coro)` runs a
    coroutine on it and waits for the result; `stop()` ends the loop and joins the thread."""

    def __init__(self, name: str, owner: str) -> None:
        self.name, self.owner = name, owner  # owner: who "is not started", in errors
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None

    @property
    def running(self) -> bool:
        return self._loop is not None

    def start(self) -> None:
        loop = asyncio.new_event_loop()
        thread = threading.Thread(target=loop.run_forever, name=self.name, daemon=True)
        self._loop, self._thread = loop, thread
        thread.start()

    def run(self, coro: Coroutine[Any, Any, T], timeout: float = 10.0) -> T:
        if self._loop is None:
            coro.close()
            raise RuntimeError(f"{self.owner} is not started")
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result(timeout)

    def stop(self) -> None:
        if self._loop is None or self._thread is None:
            return
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=10)
        self._loop.close()
        self._loop = self._thread = None
