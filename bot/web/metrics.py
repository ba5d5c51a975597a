"""The operator's view of the HTTP side: every Slack request timed and counted with its own
id for the logs, and GET /metrics."""

from __future__ import annotations

import re
import time
from collections.abc import Awaitable, Callable
from urllib.parse import unquote_plus

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST

from bot.domain.model import ReleaseState
from bot.runtime.logs import REQUEST_ID, new_request_id
from bot.runtime.metrics import Metrics
from bot.services.container import Services
from bot.slack.envelope import SURFACES

_TYPE = re.compile(r'"type"\s*:\s*"([a-z_]+)"')


def surface_of(content_type: str, body: bytes) -> str:
    """Which Slack surface a request comes from, read cheaply (the ack waits on this)."""
    if content_type == "application/json":
        return "event"
    if body.startswith(b"payload="):
        found = _TYPE.search(unquote_plus(body[:400].decode("ascii", "replace")))
        return SURFACES.get(found.group(1), "other") if found else "other"
    return "command" if b"command=" in body else "other"


def observe(app: web.Application, metrics: Metrics, services: Services) -> None:
    """Time and count every request to /slack/events, and serve GET /metrics."""

    @web.middleware
    async def measure(
        request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
    ) -> web.StreamResponse:
        if request.path != "/slack/events":
            return await handler(request)
        started = time.perf_counter()
        token = REQUEST_ID.set(new_request_id())
        surface = "unknown"
        status = 500
        try:
            body = await request.read()  # aiohttp keeps it for the handler
            surface = surface_of(request.content_type, body)
            response = await handler(request)
            status = response.status
            return response
        except web.HTTPException as exc:
            status = exc.status
            raise
        finally:
            metrics.requests.labels(surface, str(status)).inc()
            metrics.ack_seconds.labels(surface).observe(time.perf_counter() - started)
            REQUEST_ID.reset(token)

    async def scrape(_: web.Request) -> web.Response:
        counts = await services.releases.count_by_product_state()
        pending = await services.outbox.pending()
        products = {*services.deps.catalog.products, *(p for p, _ in counts)}
        metrics.count_releases(counts, products, [state.value for state in ReleaseState])
        for kind, count in pending.items():
            metrics.outbound_pending.labels(kind).set(count)
        return web.Response(body=metrics.render(), headers={"Content-Type": CONTENT_TYPE_LATEST})

    app.middlewares.append(measure)
    app.router.add_get("/metrics", scrape)
