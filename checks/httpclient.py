"""The HTTP client every check shares."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable

import httpx


class ShardedTransport(httpx.AsyncBaseTransport):
    """Several small connection pools behind one client; each request goes to the least busy.

    httpx's pool does work proportional to its size on every request (encode/httpx#3215):
    one pool of 50 connections ran 200 checks 4x slower than ideal, five pools of 10 did not.
    """

    def __init__(self, connections: int, per_pool: int = 10) -> None:
        count = max(1, -(-connections // per_pool))
        size = -(-connections // count)
        self._limits = httpx.Limits(max_connections=size, max_keepalive_connections=size)
        self._pools: list[httpx.AsyncHTTPTransport] = []  # made for the first request
        self._busy = [0] * count

    def _pool(self, index: int) -> httpx.AsyncHTTPTransport:
        """The pools are made when a check first needs one, not at start, and share one TLS
        context: each would load the CA bundle for itself (20-40 ms apiece)."""
        if not self._pools:
            tls = httpx.create_ssl_context()
            self._pools = [
                httpx.AsyncHTTPTransport(verify=tls, limits=self._limits) for _ in self._busy
            ]
        return self._pools[index]

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        index = self._busy.index(min(self._busy))
        self._busy[index] += 1
        try:
            response = await self._pool(index).handle_async_request(request)
        except BaseException:
            self._busy[index] -= 1
            raise
        # The connection stays taken until the body is read or the response closed.
        return httpx.Response(
            status_code=response.status_code,
            headers=response.headers,
            stream=_Released(response.stream, lambda: self._release(index)),
            extensions=response.extensions,
        )

    def _release(self, index: int) -> None:
        self._busy[index] -= 1

    async def aclose(self) -> None:
        for pool in self._pools:
            await pool.aclose()


class _Released(httpx.AsyncByteStream):
    def __init__(
        self, stream: httpx.AsyncByteStream | httpx.SyncByteStream, done: Callable[[], None]
    ) -> None:
        self._stream, self._done, self._closed = stream, done, False

    async def __aiter__(self) -> AsyncIterator[bytes]:
        assert isinstance(self._stream, httpx.AsyncByteStream)
        async for chunk in self._stream:
            yield chunk

    async def aclose(self) -> None:
        if not self._closed:
            self._closed = True
            self._done()
            assert isinstance(self._stream, httpx.AsyncByteStream)
            await self._stream.aclose()


def check_http_client(concurrency: int) -> httpx.AsyncClient:
    """The one client every check shares, with connections for `concurrency` checks."""
    return httpx.AsyncClient(
        transport=ShardedTransport(max(concurrency, 10)),
        follow_redirects=True,
        max_redirects=5,
        timeout=httpx.Timeout(30.0, pool=None),
        headers={"User-Agent": "readiness-checks"},
    )
