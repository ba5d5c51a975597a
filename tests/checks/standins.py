"""Stand-ins for the GitHub and Kubernetes APIs: real aiohttp servers on 127.0.0.1, port 0.
Also a static file server, and `run_one` to run a check as app.yaml would give it.

The stand-ins answer the documented JSON shapes of the endpoints the checks call, including the
error bodies (GitHub's `{"message": ...}`, Kubernetes' `Status` object), and record every
request so tests can see what was sent.
"""

from __future__ import annotations

import ssl
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from aiohttp import web

from checks import CheckContext, CheckJob, CheckResult, default_registry, run_checks

REGISTRY = default_registry()


async def run_one(ctx: CheckContext, **raw: object) -> CheckResult:
    """Validate one check as app.yaml would give it, and run it through the runner."""
    jobs = [CheckJob("item", REGISTRY.parse(raw))]
    (result,) = [r async for r in run_checks(jobs, REGISTRY, ctx)]
    return result


@asynccontextmanager
async def serve(app: web.Application, tls: ssl.SSLContext | None = None) -> AsyncIterator[str]:
    """Serve `app` on a free 127.0.0.1 port; yields its base URL."""
    runner = web.AppRunner(app, shutdown_timeout=0.5)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0, ssl_context=tls)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    try:
        yield f"{'https' if tls else 'http'}://127.0.0.1:{port}"
    finally:
        await runner.cleanup()


def static_files(root: Path) -> web.Application:
    """A web server for the files under root, with /broken answering 500."""

    async def broken(_: web.Request) -> web.Response:
        return web.Response(status=500, text="upstream exploded")

    app = web.Application()
    app.router.add_get("/broken", broken)
    app.router.add_static("/", root)
    return app


def _stamp(when: datetime) -> str:
    return when.strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass
class GitHub:
    """GET /repos/{owner}/{repo}/actions/workflows/{workflow_id}/runs, as the REST API answers.

    Runs are kept newest first, under the workflow's file name and its numeric id.
    A private repository answers 404 without a valid token, as GitHub does.
    """

    token: str = "ghp_standin"
    private: set[str] = field(default_factory=set)
    runs: dict[tuple[str, str], list[dict[str, Any]]] = field(default_factory=dict)
    requests: list[web.Request] = field(default_factory=list)

    def add_run(
        self,
        repo: str,
        workflow: str,
        run_number: int,
        conclusion: str | None,
        branch: str = "main",
        age: timedelta = timedelta(hours=2),
        workflow_id: int = 161335,
    ) -> dict[str, Any]:
        done = datetime.now(UTC) - age
        run = {
            "id": 30433642 + run_number,
            "name": "Deploy",
            "head_branch": branch,
            "head_sha": f"{run_number:040x}",
            "path": f".github/workflows/{workflow}",
            "display_title": f"Release {run_number}",
            "run_number": run_number,
            "event": "push",
            "status": "completed" if conclusion else "in_progress",
            "conclusion": conclusion,
            "workflow_id": workflow_id,
            "url": f"https://api.github.com/repos/{repo}/actions/runs/{30433642 + run_number}",
            "html_url": f"https://github.com/{repo}/actions/runs/{30433642 + run_number}",
            "created_at": _stamp(done - timedelta(minutes=5)),
            "updated_at": _stamp(done),
            "run_attempt": 1,
            "run_started_at": _stamp(done - timedelta(minutes=5)),
        }
        for key in ((repo, workflow), (repo, str(workflow_id))):
            self.runs.setdefault(key, []).insert(0, run)
        return run

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_get("/repos/{owner}/{repo}/actions/workflows/{workflow}/runs", self._runs)
        return app

    async def _runs(self, request: web.Request) -> web.Response:
        self.requests.append(request)
        repo = f"{request.match_info['owner']}/{request.match_info['repo']}"
        auth = request.headers.get("Authorization")
        if auth is not None and auth != f"Bearer {self.token}":
            return self._error(401, "Bad credentials", "https://docs.github.com/rest")
        key = (repo, request.match_info["workflow"])
        if key not in self.runs or (repo in self.private and auth is None):
            return self._error(
                404,
                "Not Found",
                "https://docs.github.com/rest/actions/workflow-runs#list-workflow-runs-for-a-workflow",
            )
        query = request.query
        runs = [
            r
            for r in self.runs[key]
            if query.get("branch") in (None, r["head_branch"])
            and query.get("status") in (None, r["status"], r["conclusion"])
        ]
        per_page = int(query.get("per_page", "30"))
        return web.json_response({"total_count": len(runs), "workflow_runs": runs[:per_page]})

    @staticmethod
    def _error(status: int, message: str, docs: str) -> web.Response:
        body = {"message": message, "documentation_url": docs, "status": str(status)}
        return web.json_response(body, status=status)


def _condition(kind: str, status: str, reason: str, message: str) -> dict[str, str]:
    now = _stamp(datetime.now(UTC))
    return {
        "type": kind,
        "status": status,
        "lastHeartbeatTime": now,
        "lastTransitionTime": now,
        "reason": reason,
        "message": message,
    }


@dataclass
class Kubernetes:
    """GET /api/v1/nodes (with limit/continue) and GET .../deployments/{name}, as the API server.

    Without a token it answers 403 as for system:anonymous; with a wrong one, 401.
    """

    token: str = "k8s-standin-token"
    nodes: dict[str, bool] = field(default_factory=dict)  # name -> Ready
    deployments: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)
    requests: list[web.Request] = field(default_factory=list)

    def add_deployment(
        self,
        name: str,
        replicas: int,
        available: int,
        updated: int | None = None,
        namespace: str = "default",
        generation: int = 1,
        observed: int | None = None,
    ) -> None:
        updated = replicas if updated is None else updated
        status: dict[str, Any] = {
            "observedGeneration": generation if observed is None else observed,
            "replicas": max(replicas, updated),
            "updatedReplicas": updated,
            "readyReplicas": available,
            "availableReplicas": available,
            "unavailableReplicas": max(0, replicas - available),
            "conditions": [
                _condition(
                    "Available",
                    "True" if available >= replicas else "False",
                    "MinimumReplicasAvailable",
                    "Deployment has minimum availability.",
                ),
                _condition(
                    "Progressing",
                    "True",
                    "NewReplicaSetAvailable",
                    f'ReplicaSet "{name}-7d9c6b8f5d" has successfully progressed.',
                ),
            ],
        }
        # The API server leaves out zero counts (omitempty).
        status = {k: v for k, v in status.items() if v != 0}
        self.deployments[(namespace, name)] = {
            "kind": "Deployment",
            "apiVersion": "apps/v1",
            "metadata": {
                "name": name,
                "namespace": namespace,
                "uid": "0b5b4d7e-6c0a-4f7e-9a43-2f1f1c7d2a10",
                "resourceVersion": "48213",
                "generation": generation,
                "labels": {"app": name},
            },
            "spec": {
                "replicas": replicas,
                "selector": {"matchLabels": {"app": name}},
                "strategy": {"type": "RollingUpdate"},
            },
            "status": status,
        }

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_get("/api/v1/nodes", self._nodes)
        app.router.add_get(
            "/apis/apps/v1/namespaces/{namespace}/deployments/{name}", self._deployment
        )
        return app

    def _refused(self, request: web.Request, forbidden: str) -> web.Response | None:
        self.requests.append(request)
        auth = request.headers.get("Authorization")
        if auth is None:
            return self._status(403, "Forbidden", forbidden)
        if auth != f"Bearer {self.token}":
            return self._status(401, "Unauthorized", "Unauthorized")
        return None

    async def _nodes(self, request: web.Request) -> web.Response:
        forbidden = (
            'nodes is forbidden: User "system:anonymous" cannot list resource "nodes" '
            'in API group "" at the cluster scope'
        )
        if refused := self._refused(request, forbidden):
            return refused
        names = sorted(self.nodes)
        start = int(request.query.get("continue") or 0)
        limit = int(request.query.get("limit") or len(names) or 1)
        page = names[start : start + limit]
        more = start + limit < len(names)
        items = [
            {
                "metadata": {"name": name, "labels": {"kubernetes.io/hostname": name}},
                "spec": {"podCIDR": "10.244.0.0/24"},
                "status": {
                    "conditions": [
                        _condition("MemoryPressure", "False", "KubeletHasSufficientMemory", "ok"),
                        _condition(
                            "Ready",
                            "True" if self.nodes[name] else "Unknown",
                            "KubeletReady" if self.nodes[name] else "NodeStatusUnknown",
                            "kubelet is posting ready status"
                            if self.nodes[name]
                            else "Kubelet stopped posting node status.",
                        ),
                    ]
                },
            }
            for name in page
        ]
        metadata: dict[str, Any] = {"resourceVersion": "48213"}
        if more:
            metadata["continue"] = str(start + limit)
            metadata["remainingItemCount"] = len(names) - start - limit
        return web.json_response(
            {"kind": "NodeList", "apiVersion": "v1", "metadata": metadata, "items": items}
        )

    async def _deployment(self, request: web.Request) -> web.Response:
        namespace, name = request.match_info["namespace"], request.match_info["name"]
        forbidden = (
            f'deployments.apps "{name}" is forbidden: User "system:anonymous" cannot get '
            f'resource "deployments" in API group "apps" in the namespace "{namespace}"'
        )
        if refused := self._refused(request, forbidden):
            return refused
        found = self.deployments.get((namespace, name))
        if found is None:
            return self._status(
                404,
                "NotFound",
                f'deployments.apps "{name}" not found',
                {"name": name, "group": "apps", "kind": "deployments"},
            )
        return web.json_response(found)

    @staticmethod
    def _status(
        code: int, reason: str, message: str, details: dict[str, str] | None = None
    ) -> web.Response:
        body: dict[str, Any] = {
            "kind": "Status",
            "apiVersion": "v1",
            "metadata": {},
            "status": "Failure",
            "message": message,
            "reason": reason,
            "code": code,
        }
        if details:
            body["details"] = details
        return web.json_response(body, status=code)
