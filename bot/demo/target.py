"""The seed's LUMINES service, small enough to run anywhere: health endpoints, security and
rate-limit headers, and the monitoring endpoints the checklist probes (Prometheus,
Alertmanager, Grafana). Any part can be broken on purpose to watch a check fail."""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from aiohttp import web

SECURITY_HEADERS = {
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "X-XSS-Protection": "1; mode=block",
    "Strict-Transport-Security": "max-age=63072000; includeSubDomains",
    "Content-Security-Policy": "default-src 'self'",
}
PARTS = ("app", "db", "cache", "nats", "headers", "alerts")


@dataclass
class TargetState:
    broken: set[str] = field(default_factory=set)

    def ok(self, part: str) -> bool:
        return part not in self.broken


def build_target(state: TargetState) -> web.Application:
    @web.middleware
    async def headers(request: web.Request, handler):  # type: ignore[no-untyped-def]
        response = await handler(request)
        if state.ok("headers"):
            response.headers.update(SECURITY_HEADERS)
        response.headers.update({"X-RateLimit-Limit": "100", "X-RateLimit-Remaining": "99"})
        return response

    def health(part: str):  # type: ignore[no-untyped-def]
        async def handler(_: web.Request) -> web.Response:
            if state.ok(part) and state.ok("app"):
                return web.json_response({"status": "ok", "component": part})
            return web.json_response({"status": "down", "component": part}, status=503)

        return handler

    async def landing(_: web.Request) -> web.Response:
        return web.Response(text="<h1>LUMINES</h1>", content_type="text/html")

    async def admin(_: web.Request) -> web.Response:
        return web.json_response({"error": "unauthorized"}, status=401)

    async def ready(_: web.Request) -> web.Response:
        return web.Response(text="Ready.\n")

    async def query(_: web.Request) -> web.Response:
        value = "1" if state.ok("app") else "0"
        sample = {"metric": {"__name__": "up", "job": "lumines"}, "value": [time.time(), value]}
        return web.json_response(
            {"status": "success", "data": {"resultType": "vector", "result": [sample]}}
        )

    async def rules(_: web.Request) -> web.Response:
        rule = {"name": "HighErrorRate", "type": "alerting", "state": "inactive"}
        return web.json_response(
            {"status": "success", "data": {"groups": [{"name": "lumines", "rules": [rule]}]}}
        )

    async def alerts(_: web.Request) -> web.Response:
        if state.ok("alerts"):
            return web.json_response([])
        return web.json_response(
            [
                {
                    "labels": {"alertname": "HighErrorRate", "severity": "critical"},
                    "status": {"state": "active"},
                }
            ]
        )

    async def grafana(_: web.Request) -> web.Response:
        return web.json_response({"database": "ok", "version": "demo"})

    app = web.Application(middlewares=[headers])
    app.router.add_get("/", landing)
    app.router.add_get("/api/health", health("app"))
    for part in ("db", "cache", "nats"):
        app.router.add_get(f"/api/health/{part}", health(part))
    app.router.add_get("/api/admin", admin)
    app.router.add_get("/-/ready", ready)
    app.router.add_get("/api/v1/query", query)
    app.router.add_get("/api/v1/rules", rules)
    app.router.add_get("/api/v2/alerts", alerts)
    app.router.add_get("/grafana/api/health", grafana)
    return app
