"""The seed's LUMINES service, small enough to run anywhere: health endpoints, security and
rate-limit headers, and stand-ins for what the checklist probes around it (Prometheus,
Alertmanager, Grafana, the GitHub Actions and Kubernetes APIs, the coverage report and the
runbooks). Any part can be broken on purpose to watch a check fail.

    python -m bot.demo.target [--port 8080]   # then TARGET_URL=http://127.0.0.1:8080
"""

from __future__ import annotations

import argparse
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
PARTS = ("app", "db", "cache", "nats", "headers", "alerts", "ci", "cluster", "coverage")
# What breaking each part does, in a person's words (the demo page's switches).
EFFECTS = {
    "app": "the whole service: /api/health answers 503, p95 and error rate climb",
    "db": "/api/health/db answers 503",
    "cache": "/api/health/cache answers 503",
    "nats": "/api/health/nats answers 503",
    "headers": "the security headers are gone",
    "alerts": "a critical alert fires in Alertmanager",
    "ci": "the GitHub Actions runs fail",
    "cluster": "a Kubernetes node is NotReady",
    "coverage": "test coverage drops to 61%",
}
WORKFLOWS = ("ci.yml", "e2e.yml", "security.yml", "deploy.yml")
DOCS = {"production-runbook": 1020, "monitoring": 547, "deployment": 240, "troubleshooting": 180}


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

    async def query(request: web.Request) -> web.Response:
        promql = request.query.get("query", "")
        if "histogram_quantile" in promql:  # p95 response time, seconds
            value = "0.12" if state.ok("app") else "0.9"
        elif "http_requests_total" in promql:  # error ratio
            value = "0" if state.ok("app") else "0.05"
        elif "resource_limits" in promql:  # CPU or memory over the pod's limit
            value = "0.35" if state.ok("app") else "0.93"
        else:  # up
            value = "1" if state.ok("app") else "0"
        sample = {"metric": {"job": "lumines"}, "value": [time.time(), value]}
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

    async def workflow_runs(request: web.Request) -> web.Response:
        """GitHub's `GET /repos/{owner}/{repo}/actions/workflows/{id}/runs`."""
        workflow = request.match_info["workflow"]
        if workflow not in WORKFLOWS:
            return web.json_response({"message": "Not Found"}, status=404)
        conclusion = "success" if state.ok("ci") else "failure"
        repo = f"{request.match_info['owner']}/{request.match_info['repo']}"
        run = {
            "id": 4242,
            "run_number": 128,
            "name": workflow.removesuffix(".yml"),
            "head_branch": request.query.get("branch", "main"),
            "status": "completed",
            "conclusion": conclusion,
            "html_url": f"https://github.com/{repo}/actions/runs/4242",
            "created_at": "2026-11-28T09:00:00Z",
            "updated_at": "2026-11-28T09:12:00Z",
        }
        return web.json_response({"total_count": 1, "workflow_runs": [run]})

    async def nodes(_: web.Request) -> web.Response:
        """Kubernetes' `GET /api/v1/nodes` (a NodeList)."""

        def node(name: str, ready: bool) -> dict[str, object]:
            condition = {"type": "Ready", "status": "True" if ready else "False"}
            return {"metadata": {"name": name}, "status": {"conditions": [condition]}}

        items = [node("node-a", True), node("node-b", state.ok("cluster")), node("node-c", True)]
        return web.json_response({"kind": "NodeList", "apiVersion": "v1", "items": items})

    async def coverage(_: web.Request) -> web.Response:
        rate = "0.83" if state.ok("coverage") else "0.61"
        xml = f'<?xml version="1.0" ?>\n<coverage version="7.6" line-rate="{rate}"></coverage>\n'
        return web.Response(text=xml, content_type="application/xml")

    async def document(request: web.Request) -> web.Response:
        lines = DOCS.get(request.match_info["name"])
        if lines is None:
            raise web.HTTPNotFound()
        text = "\n".join(f"Step {n}: see the dashboard." for n in range(1, lines + 1))
        return web.Response(text=text + "\n", content_type="text/markdown")

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
    app.router.add_get(
        "/github/repos/{owner}/{repo}/actions/workflows/{workflow}/runs", workflow_runs
    )
    app.router.add_get("/k8s/api/v1/nodes", nodes)
    app.router.add_get("/coverage.xml", coverage)
    app.router.add_get("/docs/{name}.md", document)
    return app


def main() -> None:
    parser = argparse.ArgumentParser(description="The LUMINES demo target.")
    parser.add_argument("--port", type=int, default=8080)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--break", dest="broken", action="append", choices=PARTS, default=[])
    args = parser.parse_args()
    state = TargetState(set(args.broken))
    web.run_app(build_target(state), host=args.host, port=args.port, access_log=None)


if __name__ == "__main__":
    main()
