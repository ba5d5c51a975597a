"""Socket Mode: Slack delivers commands, interactions and events over a WebSocket the bot
opens (Bolt's aiohttp handler), for teams without a public URL. The HTTP server still
serves /healthz, /metrics and /api; /slack/events then accepts nothing."""

from __future__ import annotations

import asyncio
import logging
import secrets
import time

from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler
from slack_bolt.adapter.socket_mode.async_internals import (
    run_async_bolt_app,
    send_async_response,
)
from slack_bolt.async_app import AsyncApp
from slack_sdk.errors import SlackApiError
from slack_sdk.socket_mode.aiohttp import SocketModeClient
from slack_sdk.socket_mode.request import SocketModeRequest
from slack_sdk.web.async_client import AsyncWebClient

from bot.runtime.logs import REQUEST_ID, new_request_id
from bot.runtime.metrics import Metrics
from bot.services.tasks import TaskRunner
from bot.slack.envelope import SURFACES

log = logging.getLogger(__name__)

MAX_DELAY = 60.0  # seconds between attempts to get a WebSocket URL, at most


def http_signing_secret(signing_secret: str | None, socket_mode: bool) -> str:
    """The secret /slack/events verifies requests with. In Socket Mode Slack sends nothing
    there: a random secret nobody holds makes it refuse every request (an empty one would
    let anyone sign with the empty key)."""
    if socket_mode:
        return secrets.token_hex(32)
    return signing_secret or ""


def surface_of(request: SocketModeRequest) -> str:
    """The surface label /metrics counts a request under, as for /slack/events."""
    if request.type == "slash_commands":
        return "command"
    if request.type == "events_api":
        return "event"
    return SURFACES.get(str(request.payload.get("type")), "other")


class _Handler(AsyncSocketModeHandler):
    """Bolt's handler, plus what bot/web/server.py and bot/web/metrics.py give an HTTP request: a
    request id for the logs, the ack timed and counted in /metrics, and the acks-first
    order of the background work."""

    def __init__(self, owner: SocketMode) -> None:
        # The client's base URL is SLACK_API_URL: apps.connections.open goes there too.
        super().__init__(owner.bolt, owner.app_token, logger=log, web_client=owner.client)
        self.metrics, self.tasks = owner.metrics, owner.tasks

    async def handle(self, client: SocketModeClient, req: SocketModeRequest) -> None:  # type: ignore[override]
        started, wall = time.perf_counter(), time.time()
        token = REQUEST_ID.set(new_request_id())
        surface, status = surface_of(req), 500
        try:
            with self.tasks.answering():
                response = await run_async_bolt_app(self.app, req)
            status = response.status
            await send_async_response(client, req, response, wall)
        finally:
            self.metrics.requests.labels(surface, str(status)).inc()
            self.metrics.ack_seconds.labels(surface).observe(time.perf_counter() - started)
            REQUEST_ID.reset(token)


class SocketMode:
    """Connects in the background (Slack being away must not hold up /healthz) and keeps
    reconnecting, as Bolt's client does, until stopped."""

    def __init__(
        self,
        bolt: AsyncApp,
        app_token: str,
        client: AsyncWebClient,
        metrics: Metrics,
        tasks: TaskRunner,
    ) -> None:
        self.bolt, self.app_token, self.client = bolt, app_token, client
        self.metrics, self.tasks = metrics, tasks
        self._handler: AsyncSocketModeHandler | None = None
        self._connecting: asyncio.Task[None] | None = None

    async def start(self) -> None:
        handler = _Handler(self)
        self._handler = handler
        self._connecting = asyncio.create_task(self._connect(handler), name="socket-mode")

    async def _connect(self, handler: AsyncSocketModeHandler) -> None:
        """Ask for a WebSocket URL until Slack gives one (backing off up to a minute, saying
        so once per new problem), then connect; Bolt's client reconnects from there on."""
        delay, told = 1.0, ""
        while True:
            try:
                opened = await self.client.apps_connections_open(app_token=self.app_token)
                break
            except SlackApiError as exc:
                problem = (
                    f"Slack refused the app-level token ({exc.response.get('error')}): "
                    "SLACK_APP_TOKEN must be an xapp- token with the connections:write scope"
                )
            except Exception as exc:
                problem = f"Slack is unreachable ({exc or type(exc).__name__})"
            if problem != told:
                log.error("%s; Socket Mode keeps trying to connect", problem)
                told = problem
            await asyncio.sleep(delay)
            delay = min(delay * 2, MAX_DELAY)
        handler.client.wss_uri = str(opened["url"])
        await handler.connect_async()  # returns once connected (or closed meanwhile)
        if not handler.client.closed:
            log.info("connected to Slack over Socket Mode")

    async def stop(self) -> None:
        """Stop taking requests: close the WebSocket (work already acked still finishes)."""
        if self._connecting is not None:
            self._connecting.cancel()
            await asyncio.gather(self._connecting, return_exceptions=True)
        if self._handler is not None:
            await self._handler.close_async()
