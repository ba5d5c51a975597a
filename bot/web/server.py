"""The HTTP server: /slack/events (signed requests only, replays refused, then Bolt) and
/healthz."""

from __future__ import annotations

import asyncio
import hashlib
import logging
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request
from slack_bolt.async_app import AsyncApp
from slack_sdk.signature import SignatureVerifier

from bot.db import Database
from bot.services.tasks import TaskRunner
from bot.slack import envelope

log = logging.getLogger(__name__)

MAX_BODY = 1024 * 1024  # Slack's payloads are far smaller; anything bigger is refused (413)
WINDOW = 5 * 60  # Slack's signatures are valid this long (SignatureVerifier checks both ways)
# /healthz waits this long for the database: a server that never answers (frozen, or
# behind a network dropping packets) is unavailable too, said inside a probe's timeout
# (2 s in deploy/kubernetes), not after the driver's minute.
PING_WITHIN = 1.0


SEEN_FOR = timedelta(seconds=WINDOW + 60)  # past a signature's validity, a key is forgotten


class ReplayGuard:
    """A signed request is accepted once: the same timestamp and signature again (a replay
    within the five minutes a signature is valid) is refused. Slack never resends a
    command or an interaction; events are deduplicated by their event_id instead."""

    def __init__(self, limit: int = 200_000) -> None:
        self.limit = limit
        self._seen: dict[tuple[str, str], int] = {}  # insertion order = arrival order

    def first_time(self, timestamp: str, signature: str, now: float) -> bool:
        horizon = now - WINDOW - 60
        while self._seen:
            oldest = next(iter(self._seen.items()))
            if oldest[1] >= horizon and len(self._seen) < self.limit:
                break
            del self._seen[oldest[0]]
        key = (timestamp, signature)
        if key in self._seen:
            return False
        self._seen[key] = int(timestamp)
        return True


_abandoned: set[asyncio.Future[bool]] = set()  # pings given up on, until they end


async def unreachable(db: Database) -> str | None:
    """Why the database can't be reached (None: it answered within PING_WITHIN). A ping
    still waiting then is cancelled and left to end on its own: closing a connection to a
    server that doesn't answer takes the driver two more seconds."""
    ping = asyncio.ensure_future(db.ping())
    done, _ = await asyncio.wait({ping}, timeout=PING_WITHIN)
    if not done:
        ping.cancel()
        _abandoned.add(ping)
        ping.add_done_callback(lambda ended: ended.cancelled() or ended.exception())
        ping.add_done_callback(_abandoned.discard)
        return f"no answer within {PING_WITHIN:g} s"
    failed = ping.exception()
    return None if failed is None else str(failed) or type(failed).__name__


def build_web(
    bolt: AsyncApp,
    db: Database,
    signing_secret: str,
    tasks: TaskRunner,
    health: Callable[[], dict[str, object]] | None = None,
) -> web.Application:
    """The Slack endpoint and /healthz (HEALTH adds what the runtime knows: the config)."""
    verifier = SignatureVerifier(signing_secret)
    replays = ReplayGuard()

    async def slack_events(request: web.Request) -> web.Response:
        timestamp = request.headers.get("X-Slack-Request-Timestamp", "")
        if not (timestamp.isascii() and timestamp.isdigit()):
            # Bolt answers 500 for a non-numeric timestamp; it is simply unauthenticated.
            # (isdigit() alone accepts "²" and other digits int() refuses.)
            return web.Response(status=401, text="invalid request")
        try:
            body = (await request.read()).decode("utf-8")
        except UnicodeDecodeError:  # nothing Slack sends; no need to check who signed it
            return web.Response(status=400, text="body is not UTF-8")
        signature = request.headers.get("X-Slack-Signature", "")
        if not verifier.is_valid(body, timestamp, signature):
            return web.Response(status=401, text="invalid request")
        # Signed by Slack: from here to the ack, earlier requests' work waits (an unsigned
        # or half-sent request must not hold it back).
        with tasks.answering():
            return await answer(request, timestamp, signature)

    async def answer(request: web.Request, timestamp: str, signature: str) -> web.Response:
        # Events (JSON) are handled once per event_id, retries included; commands and
        # interactions (forms) carry no such id, so the request itself is accepted once.
        is_event = request.content_type == "application/json"
        try:
            fresh = is_event or await first_time(timestamp, signature)
        except Exception as exc:  # the shared record is out of reach: Slack asks again
            log.error("cannot record the request in the database: %s", exc)
            return web.Response(status=503, text="database unavailable")
        if not fresh:
            log.warning("refused a replayed request (timestamp %s)", timestamp)
            return web.Response(status=401, text="replayed request")
        try:
            bolt_request = await to_bolt_request(request)
        except Exception:  # Bolt would answer 500 to a body it can't parse
            return web.Response(status=400, text="malformed payload")
        if not isinstance(bolt_request.body, dict):
            return web.Response(status=400, text="malformed payload")
        try:
            wrong = envelope.problem(bolt_request.body)
        except envelope.Unserved as kind:
            log.info("no listener for payload type %r", str(kind)[:80])
            return web.Response(status=404, text="unhandled request")
        if wrong is not None:  # Bolt and the listeners would index it and raise: 500
            log.warning("refused a payload not shaped as Slack sends it (%s)", wrong)
            return web.Response(status=400, text="malformed payload")
        return await to_aiohttp_response(await bolt.async_dispatch(bolt_request))

    async def first_time(timestamp: str, signature: str) -> bool:
        """Accepted by no replica before: this process's memory, and with replicas (on
        PostgreSQL) the database they share."""
        if not replays.first_time(timestamp, signature, time.time()):
            return False
        if db.dialect != "postgresql":
            return True
        key = hashlib.sha256(f"{timestamp}:{signature}".encode()).hexdigest()
        now = datetime.now(UTC)
        async with db.write() as uow:
            return await uow.coordination.first_request(key, now, SEEN_FOR)

    async def healthz(_: web.Request) -> web.Response:
        said = health() if health is not None else {}
        why = await unreachable(db)
        if why is not None:
            log.error("health check: database unavailable: %s", why)
            return web.json_response({"ok": False, "database": "unavailable", **said}, status=503)
        return web.json_response({"ok": True, **said})

    app = web.Application(client_max_size=MAX_BODY)
    app.router.add_post("/slack/events", slack_events)
    app.router.add_get("/healthz", healthz)
    return app
