"""An asyncio event loop on a daemon thread: what the fakes (Slack's, GitHub's) and
SocketModeServer run on, so that synchronous tests and the demo can use them."""

from __future__ import annotations

import asyncio
import copy
import threading
from collections.abc import Callable, Coroutine
from typing import Any, Generic, Protocol, Self, TypeVar

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


class Fake(Protocol):
    """What a fake server offers its thread: start and stop, its API's URL, and waiting."""

    @property
    def api_url(self) -> str: ...

    async def start(self) -> Self: ...

    async def stop(self) -> None: ...

    async def wait_for(self, predicate: Callable[[Any], Any], timeout: float) -> Any: ...


F = TypeVar("F", bound=Fake)


class FakeThread(Generic[F]):
    """A fake made by MAKE, served on a LoopThread: `with Thread() as fake: ...`. Every
    accessor runs on the fake's loop and hands back a deep copy, so what a test holds
    never changes under it."""

    def __init__(self, name: str, owner: str, make: Callable[[], F]) -> None:
        self._make = make
        self._loop = LoopThread(name, owner)
        self._fake: F | None = None

    def start(self) -> Self:
        self._loop.start()

        async def up() -> F:
            return await self._make().start()

        self._fake = self._run(up())
        return self

    def stop(self) -> None:
        if not self._loop.running:
            return
        if self._fake is not None:
            self._run(self._fake.stop())
        self._loop.stop()
        self._fake = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *_: object) -> None:
        self.stop()

    @property
    def fake(self) -> F:
        """The fake itself: touch it only from its loop (see `on_loop`)."""
        if self._fake is None:
            raise RuntimeError(f"{self._loop.owner} is not started")
        return self._fake

    @property
    def api_url(self) -> str:
        return self.fake.api_url

    def on_loop(self, fn: Callable[[F], T], timeout: float = 10.0) -> T:
        """Run `fn(fake)` on the fake's loop; return a deep copy of its result."""
        fake = self.fake

        async def run() -> T:
            return copy.deepcopy(fn(fake))

        return self._run(run(), timeout)

    def wait_for(self, predicate: Callable[[F], T], timeout: float = 10.0) -> T:
        """Block until `predicate(fake)` is truthy (checked on the loop after each call)."""
        fake = self.fake

        async def run() -> T:
            return copy.deepcopy(await fake.wait_for(predicate, timeout))

        return self._run(run(), timeout + 5)

    def _run(self, coro: Coroutine[Any, Any, T], timeout: float = 10.0) -> T:
        return self._loop.run(coro, timeout)
