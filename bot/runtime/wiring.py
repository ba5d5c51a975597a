"""Wiring: settings -> database, HTTP client, services, Bolt app, sender, web server."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
from collections.abc import Callable

import aiohttp
from aiohttp import web
from slack_sdk.errors import SlackApiError

from bot.api import add_api
from bot.clock import Clock, SystemClock
from bot.config import Settings
from bot.db import Database
from bot.db.migrate import upgrade
from bot.metrics import Metrics
from bot.observe import observe
from bot.scheduler import Scheduler
from bot.services.deps import Deps
from bot.services.outbox import OutboxService
from bot.services.tasks import TaskRunner
from bot.slack.app import build_app, make_client
from bot.slack.directory import SlackDirectory
from bot.slack.home_refresh import HomeRefresher
from bot.slack.outbound import Outbound
from bot.slack.services import Services
from bot.slack.socket_mode import SocketMode, http_signing_secret
from bot.web import build_web
from checks.httpclient import check_http_client

log = logging.getLogger(__name__)


def port_taken(host: str, port: int) -> str | None:
    """Why `port` can't be listened on, found before anything starts (None: it can)."""
    if port == 0:
        return None
    try:
        infos = socket.getaddrinfo(
            host or None, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
        )
    except (OSError, UnicodeError, ValueError) as exc:  # e.g. a host name over 63 chars
        return str(getattr(exc, "strerror", None) or exc)
    family, kind, proto, _, address = infos[0]
    with socket.socket(family, kind, proto) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(address)
        except OSError as exc:
            return str(exc.strerror or exc)
    return None


class Runtime:
    def __init__(
        self, settings: Settings, clock: Clock | None = None, socket_mode: bool | None = None
    ) -> None:
        env = settings.env
        self.settings = settings
        # Socket Mode when asked, or when an app-level token is given.
        self.socket_mode = bool(env.slack_app_token) if socket_mode is None else socket_mode
        self.db = Database(env.database_url)
        self.http = check_http_client(settings.app.checks.concurrency)
        self.client = make_client(env.slack_bot_token or "", env.slack_api_url)
        self.client.metrics = metrics = Metrics()
        self.deps = Deps(
            settings=settings,
            db=self.db,
            clock=clock or SystemClock(),
            directory=SlackDirectory(self.client),
            http=self.http,
            tasks=TaskRunner(),
            metrics=metrics,
        )
        self.services = Services.build(self.deps)
        self.bolt = build_app(self.services, self.client)
        slack = settings.app.slack
        self.homes = HomeRefresher(self.services.home, self.client)
        self.outbound = Outbound(
            self.client,
            self.services.releases,
            OutboxService(self.deps),
            self.deps.outbox_ready,
            slack.card_update_interval.total_seconds(),
            slack.post_interval.total_seconds(),
            on_card=self.homes.changed,
        )
        self.scheduler = Scheduler(self.services)
        self._runner: web.AppRunner | None = None
        self._sender: asyncio.Task[None] | None = None
        self._homes: asyncio.Task[None] | None = None
        self._socket: SocketMode | None = None

    async def start(
        self, host: str, port: int, routes: Callable[[web.Application], None] | None = None
    ) -> int:
        """Migrate, then serve; returns the bound port. `routes` may add to the web app
        before it serves (`readiness demo` adds its page)."""
        # One pooled session for every Slack call and response_url reply; slack_sdk would
        # otherwise open (and tear down) a session and a connection per call.
        self.client.session = aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(limit=50), trust_env=True
        )
        await upgrade(self.db)
        async with self.db.write() as repo:
            abandoned = await repo.finish_abandoned_runs(self.deps.clock.now())
        if abandoned:
            log.warning("closed %d check run(s) left unfinished by a previous process", abandoned)
        try:
            identity = await self.client.auth_test()
            log.info("connected to Slack as %s in %s", identity.get("user"), identity.get("team"))
        except SlackApiError as exc:
            log.error(
                "Slack refused the bot token (%s); requests will fail until it is fixed",
                exc.response.get("error"),
            )
        except Exception as exc:
            log.error("Slack is unreachable (%s); will keep trying as work arrives", exc)
        told = await self.services.releases.review_config()
        if told:
            log.warning("the checklist changed: told %d release(s) of stale signatures", told)
        self._sender = asyncio.create_task(self.outbound.run(), name="outbound")
        self._homes = asyncio.create_task(self.homes.run(), name="home-refresh")
        self.scheduler.start()
        secret = http_signing_secret(self.settings.env.slack_signing_secret, self.socket_mode)
        http = build_web(self.bolt, self.db, secret, self.deps.tasks)
        observe(http, self.deps.metrics, self.db)
        add_api(http, self.services, self.settings.env.readiness_api_token)
        if routes is not None:
            routes(http)
        self._runner = web.AppRunner(http, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, host, port)
        await site.start()
        addresses = self._runner.addresses
        bound = addresses[0][1] if addresses else port
        log.info("listening on http://%s:%s", host, bound)
        if self.socket_mode:
            self._socket = SocketMode(
                self.bolt,
                self.settings.env.slack_app_token or "",
                self.client,
                self.deps.metrics,
                self.deps.tasks,
            )
            await self._socket.start()
        return int(bound)

    async def stop(self) -> None:
        if self._socket is not None:
            await self._socket.stop()
        self.scheduler.stop()
        if self._runner is not None:
            await self._runner.cleanup()
        await self.deps.tasks.drain()
        for task in (self._sender, self._homes):
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
        await self.http.aclose()
        if self.client.session is not None:
            await self.client.session.close()
        await self.db.close()
