"""Real local HTTP servers for the checks to probe."""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator

import httpx
import pytest
from aiohttp import web

from checks import CheckContext

SECURE = {
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Strict-Transport-Security": "max-age=63072000",
    "Content-Security-Policy": "default-src 'self'",
}


async def _hang(request: web.Request) -> web.StreamResponse:
    await asyncio.sleep(3600)
    return web.Response()


async def _drip(request: web.Request) -> web.StreamResponse:
    response = web.StreamResponse()
    await response.prepare(request)
    for _ in range(3600):
        await response.write(b".")
        await asyncio.sleep(1)
    return response


async def _huge(request: web.Request) -> web.StreamResponse:
    response = web.StreamResponse()
    await response.prepare(request)
    chunk = b"x" * 65536
    for _ in range(16384):  # a gigabyte, if anyone read it all
        await response.write(chunk)
    return response


def target_app() -> web.Application:
    app = web.Application()

    async def health(_: web.Request) -> web.Response:
        return web.json_response({"status": "ok", "checks": {"db": "ok"}}, headers=SECURE)

    async def db_down(_: web.Request) -> web.Response:
        return web.Response(status=503, text="db down")

    async def plain(_: web.Request) -> web.Response:
        return web.Response(text="hello", headers={"X-Frame-Options": "SAMEORIGIN"})

    async def loop(_: web.Request) -> web.Response:
        raise web.HTTPFound("/loop")

    app.router.add_get("/api/health", health)
    app.router.add_get("/api/health/db", db_down)
    app.router.add_get("/plain", plain)
    app.router.add_get("/hang", _hang)
    app.router.add_get("/drip", _drip)
    app.router.add_get("/huge", _huge)
    app.router.add_get("/loop", loop)
    return app


@pytest.fixture
async def target() -> AsyncIterator[str]:
    runner = web.AppRunner(target_app(), shutdown_timeout=0.5)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    yield f"http://127.0.0.1:{port}"
    await runner.cleanup()


@pytest.fixture
def environ() -> dict[str, str]:
    """The environment checks see (tokens named by token_env), as the bot's settings hold
    it: where programs are found, no tokens; a test may change it."""
    return {"PATH": os.environ["PATH"]}


@pytest.fixture
async def ctx(environ: dict[str, str]) -> AsyncIterator[CheckContext]:
    async with httpx.AsyncClient(follow_redirects=True, max_redirects=5) as client:
        yield CheckContext(client, max_body_bytes=1024 * 1024, environ=environ)
