"""The composition root: settings -> database -> services -> Slack app -> web server.

`Runtime` is the running bot (`readiness serve`, and `readiness demo` around it);
`offline()` is the same services without Slack, for the commands that work on the
database from a terminal (`readiness check RELEASE`, `export`, …).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
from collections.abc import AsyncIterator, Callable

import aiohttp
import httpx
from aiohttp import web
from slack_sdk.errors import SlackApiError

from bot.config import ConfigError, Settings
from bot.db import Database
from bot.db.migrate import upgrade
from bot.domain.errors import Conflict
from bot.runtime.clock import Clock, SystemClock
from bot.runtime.metrics import Metrics
from bot.runtime.scheduler import Scheduler
from bot.services.container import Services
from bot.services.deps import Deps, Directory, NoDirectory
from bot.services.tasks import TaskRunner
from bot.slack.app import build_app
from bot.slack.client import make_client
from bot.slack.directory import SlackDirectory
from bot.slack.home_refresh import HomeRefresher
from bot.slack.outbound import Outbound
from bot.slack.socket_mode import SocketMode, http_signing_secret
from bot.web.api import add_api
from bot.web.github import add_github
from bot.web.metrics import observe
from bot.web.server import build_web
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


def build_deps(
    settings: Settings,
    clock: Clock,
    directory: Directory,
    http: httpx.AsyncClient,
    metrics: Metrics | None = None,
) -> Deps:
    """What every service is given (the database opened on DATABASE_URL)."""
    return Deps(
        settings=settings,
        db=Database(settings.env.database_url),
        clock=clock,
        directory=directory,
        http=http,
        tasks=TaskRunner(),
        metrics=metrics or Metrics(by_product=len(settings.catalog) > 1),
    )


@contextlib.asynccontextmanager
async def offline(settings: Settings, migrate: bool = False) -> AsyncIterator[Services]:
    """The services without Slack (nobody signs from a terminal), closed on exit; MIGRATE
    brings the schema up to date first."""
    http = check_http_client(settings.catalog.bot.checks.concurrency)
    deps = build_deps(settings, SystemClock(), NoDirectory(), http)
    try:
        services = Services.build(deps)
        if migrate:
            await upgrade(deps.db)
            await adopt(services)
        yield services
    finally:
        await deps.tasks.drain()
        await deps.db.close()
        await http.aclose()


async def adopt(services: Services) -> None:
    """Releases from before products are given theirs (said in the log)."""
    try:
        given = await services.releases.adopt()
    except Conflict:
        log.warning(
            "releases from before products were left as they were: one would take a name "
            "its product already has"
        )
        return
    if given:
        log.info("gave %d release(s) from before products to their product", given)


class Runtime:
    def __init__(
        self, settings: Settings, clock: Clock | None = None, socket_mode: bool | None = None
    ) -> None:
        env = settings.env
        self.settings = settings
        # Socket Mode when asked, or when an app-level token is given.
        self.socket_mode = bool(env.slack_app_token) if socket_mode is None else socket_mode
        self.http = check_http_client(settings.catalog.bot.checks.concurrency)
        self.client = make_client(env.slack_bot_token or "", env.slack_api_url)
        self.client.metrics = metrics = Metrics(by_product=len(settings.catalog) > 1)
        self.deps = build_deps(
            settings, clock or SystemClock(), SlackDirectory(self.client), self.http, metrics
        )
        self.db = self.deps.db
        self.services = Services.build(self.deps)
        self.bolt = build_app(self.services, self.client)
        slack = settings.catalog.bot.slack
        self.homes = HomeRefresher(self.services.home, self.client)
        self.outbound = Outbound(
            self.client,
            self.services.outbox,
            self.db.outbox_ready,
            slack.card_update_interval.total_seconds(),
            slack.post_interval.total_seconds(),
            on_card=self.homes.changed,
            idle=10.0 if self.db.dialect == "postgresql" else 30.0,
        )
        self.scheduler = Scheduler(self.services)
        self._runner: web.AppRunner | None = None
        self._sender: asyncio.Task[None] | None = None
        self._homes: asyncio.Task[None] | None = None
        self._listener: asyncio.Task[None] | None = None
        self._github: asyncio.Task[None] | None = None
        self._socket: SocketMode | None = None
        self.config_problems: list[str] = []  # a reload that failed: the config in use is older

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
        catalog = self.settings.catalog
        log.info(
            "serving %d product(s) from %s: %s",
            len(catalog),
            self.settings.config_path,
            ", ".join(f"{pid} ({app.product})" for pid, app in catalog.products.items()),
        )
        await adopt(self.services)
        abandoned = await self.services.checks.close_leftovers()
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
        if self.db.dialect == "postgresql":  # other replicas' commits wake this sender
            self._listener = asyncio.create_task(self.db.listen(), name="replicas")
        self.scheduler.start()
        secret = http_signing_secret(self.settings.env.slack_signing_secret, self.socket_mode)
        http = build_web(self.bolt, self.db, secret, self.deps.tasks, self.health)
        observe(http, self.deps.metrics, self.services)
        add_api(http, self.services, self.settings.env.readiness_api_token)
        if self.settings.env.github_app:  # GitHub Actions waiting on releases
            add_github(http, self.services, self.settings.env.github_webhook_secret or "")
            self._github = asyncio.create_task(self._answer_github(), name="github")
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

    async def _answer_github(self) -> None:
        """Until cancelled: deliveries left from before, then GitHub Actions jobs answered
        as their releases change (at least every tick: timeouts, retries)."""
        github, every = self.services.github, self.settings.catalog.bot.tick
        while True:
            try:
                await github.handle()
            except Exception:  # the next change or tick tries again
                log.exception("answering GitHub failed")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.db.changed.wait(), every.total_seconds())
            self.db.changed.clear()

    @property
    def products(self) -> str:
        return ", ".join(self.deps.catalog.products)

    def health(self) -> dict[str, object]:
        """What /healthz adds of the config: nothing while it is current; that it is stale
        (the last reload failed) and why."""
        if not self.config_problems:
            return {}
        return {"config": "stale", "config_problems": self.config_problems}

    async def reload(self) -> bool:
        """Read the config again (SIGHUP). A broken one is logged, and the one in use kept
        (/healthz says it is stale); a good one applies at once: products, roles,
        checklists, schedules. Bot-wide settings (`_settings.yaml`) apply at restart."""
        try:
            settings = self.settings.reloaded()
        except ConfigError as exc:
            self.config_problems = exc.problems
            for problem in exc.problems:
                log.error("config reload: %s", problem)
            log.error("config reload failed: still using the config loaded before")
            return False
        before = self.settings.catalog.products
        if settings.catalog.bot != self.settings.catalog.bot:
            log.warning(
                "config reload: the bot-wide settings (checks, slack, schedules.tick) changed; "
                "they apply at the next start"
            )
        self.settings = settings
        self.deps.use(settings)
        self.config_problems = []
        self.scheduler.plan()
        await adopt(self.services)
        told = await self.services.releases.review_config()
        changed = [p for p, app in settings.catalog.products.items() if before.get(p) != app]
        await self.services.releases.redraw(changed)
        log.info(
            "config reloaded: %d product(s) (%s)%s",
            len(settings.catalog),
            self.products,
            f"; told {told} release(s) of stale signatures" if told else "",
        )
        return True

    async def stop(self) -> None:
        if self._socket is not None:
            await self._socket.stop()
        await self.scheduler.stop()
        if self._runner is not None:
            await self._runner.cleanup()
        await self.deps.tasks.drain()
        for task in (self._sender, self._homes, self._listener, self._github):
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
        try:
            await self.services.outbox.let_go()
        except Exception:  # the database is gone: the leases run out instead
            log.warning("could not hand this replica's channels on", exc_info=True)
        await self.http.aclose()
        if self.client.session is not None:
            await self.client.session.close()
        await self.db.close()
