"""What each fake server shares: serving its aiohttp app on a port (0: any free one), and
`wait_for` a condition, looked at again after every change (`touch`)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any, Self, TypeVar

from aiohttp import web

T = TypeVar("T")


class Served:
    def __init__(self, app: web.Application, host: str, port: int) -> None:
        self.app, self.host, self.port = app, host, port
        self._runner: web.AppRunner | None = None
        self._changed = asyncio.Event()

    async def start(self) -> Self:
        self._runner = web.AppRunner(self.app, access_log=None)
        await self._runner.setup()
        await web.TCPSite(self._runner, self.host, self.port).start()
        self.port = int(self._runner.addresses[0][1])
        return self

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> Self:
        return await self.start()

    async def __aexit__(self, *_: object) -> None:
        await self.stop()

    def touch(self) -> None:
        """Wake every `wait_for` to look again."""
        self._changed.set()
        self._changed = asyncio.Event()

    def summary(self) -> str:
        """What the fake saw, for a condition that was not met in time."""
        return ""

    async def wait_for(self, predicate: Callable[[Any], T], timeout: float = 10.0) -> T:
        """Wait until `predicate(self)` is truthy and return it; re-checked after each change."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            changed = self._changed
            result = predicate(self)
            if result:
                return result
            left = deadline - loop.time()
            if left <= 0:
                raise TimeoutError(f"condition not met within {timeout}s; {self.summary()}")
            try:
                await asyncio.wait_for(changed.wait(), left)
            except TimeoutError:
                pass
