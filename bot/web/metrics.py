"""The operator's view of the HTTP side: every Slack request timed and counted with its own
id for the logs, every Web API call counted, and GET /metrics."""

from __future__ import annotations

import re
import time
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import unquote_plus

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.web.async_slack_response import AsyncSlackResponse

from bot.db import Database
from bot.domain.model import ReleaseState
from bot.logs import REQUEST_ID, new_request_id
from bot.metrics import Metrics


class MeteredWebClient(AsyncWebClient):
    """The Slack Web API client, counting and timing every call by method and outcome."""

    metrics: Metrics | None = None

    async def api_call(self, api_method: str, **kwargs: Any) -> AsyncSlackResponse:  # type: ignore[override]
        started = time.perf_counter()
        status = "ok"
        try:
            return await super().api_call(api_method, **kwargs)
        except SlackApiError as exc:
            code = exc.response.status_code
            status = (
                str(exc.response.get("error") or f"http_{code}")
                if exc.response.data
                else (f"http_{code}")
            )
            raise
        except Exception as exc:
            status = type(exc).__name__
            raise
        finally:
            if self.metrics is not None:
                self.metrics.slack_calls.labels(api_method, status).inc()
                self.metrics.slack_seconds.labels(api_method).observe(time.perf_counter() - started)


_TYPE = re.compile(r'"type"\s*:\s*"([a-z_]+)"')
SURFACES = {
    "block_actions": "action",
    "block_suggestion": "action",
    "view_submission": "view",
    "view_closed": "view",
    "shortcut": "shortcut",
    "message_action": "shortcut",
}


def surface_of(content_type: str, body: bytes) -> str:
    """Which Slack surface a request comes from, read cheaply (the ack waits on this)."""
    if content_type == "application/json":
        return "event"
    if body.startswith(b"payload="):
        found = _TYPE.search(unquote_plus(body[:400].decode("ascii", "replace")))
        return SURFACES.get(found.group(1), "other") if found else "other"
    return "command" if b"command=" in body else "other"


def observe(app: web.Application, metrics: Metrics, db: Database) -> None:
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
        async with db.read() as repo:
            by_state = await repo.count_by_state()
            pending = await repo.count_pending()
        for state in ReleaseState:
            metrics.releases.labels(state.value).set(by_state.get(state.value, 0))
        for kind, count in pending.items():
            metrics.outbound_pending.labels(kind).set(count)
        return web.Response(body=metrics.render(), headers={"Content-Type": CONTENT_TYPE_LATEST})

    app.middlewares.append(measure)
    app.router.add_get("/metrics", scrape)
