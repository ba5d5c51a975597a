"""`POST /github/events`: GitHub's webhooks, verified, recorded, answered at once, handled
after (GitHub waits 10 s and does not retry a failed delivery)."""

from __future__ import annotations

import hashlib
import hmac
import json
import logging

from aiohttp import web

from bot.services.container import Services

log = logging.getLogger(__name__)
MAX_BODY = 1024 * 1024  # GitHub caps payloads at 25 MB; ours are a few KB


def signed(secret: str, body: bytes, signature: str) -> bool:
    """X-Hub-Signature-256 is `sha256=` + the hex HMAC-SHA256 of the raw body."""
    expected = "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(signature.encode(), expected.encode())


def add_github(app: web.Application, services: Services, secret: str) -> None:
    async def events(request: web.Request) -> web.Response:
        body = await request.read()
        if not signed(secret, body, request.headers.get("X-Hub-Signature-256", "")):
            return web.json_response({"error": "invalid signature"}, status=401)
        delivery = request.headers.get("X-GitHub-Delivery", "")
        event = request.headers.get("X-GitHub-Event", "")
        if not delivery or not event:
            return web.json_response(
                {"error": "X-GitHub-Delivery and X-GitHub-Event are needed"}, status=400
            )
        try:
            payload = json.loads(body)
        except ValueError:
            return web.json_response({"error": "the body is not JSON"}, status=400)
        if not isinstance(payload, dict):
            return web.json_response({"error": "the body is not a JSON object"}, status=400)
        try:
            fresh = await services.github.receive(delivery, event, payload)
        except Exception as exc:  # not recorded: say so, GitHub shows the failure
            log.error("cannot record GitHub delivery %s: %s", delivery, exc)
            return web.json_response({"error": "database unavailable"}, status=503)
        if fresh:
            services.deps.tasks.spawn(services.github.handle(), bounded=False)
        return web.json_response({"ok": True, "duplicate": not fresh}, status=202)

    app.router.add_post("/github/events", events)
