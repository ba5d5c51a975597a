"""A local stand-in for the part of GitLab's REST API (v4) that docs/ci/gitlab-ci-approval.yml
calls: list a project's deployments, approve or reject one, read a job, play a manual job.

A real HTTP server on port 0 that records every call (method, path, query, form body and
PRIVATE-TOKEN header) and refuses what GitLab refuses: 401 without a known token, 400 for
an approval status other than approved/rejected, for a deployment that is not waiting for
approval, and for the pipeline's own user approving its deployment; 404 for what does not
exist; 400 for playing a job that is not manual. Answers are shaped as GitLab's API
documentation shows them (doc/api/deployments.md, doc/api/jobs.md).
"""

from __future__ import annotations

import http.server
import json
import threading
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, urlsplit


@dataclass
class Call:
    method: str
    path: str
    query: dict[str, str]
    form: dict[str, str]
    token: str | None


@dataclass
class FakeGitLab:
    """PROJECT's API; TOKENS maps each token GitLab would accept to its user's name."""

    project: int = 42
    tokens: dict[str, str] = field(default_factory=dict)
    calls: list[Call] = field(default_factory=list)
    deployments: dict[int, dict[str, Any]] = field(default_factory=dict)
    jobs: dict[int, dict[str, Any]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.lock = threading.Lock()
        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def api_url(self) -> str:
        """What a job sees as $CI_API_V4_URL."""
        return f"http://127.0.0.1:{self.server.server_address[1]}/api/v4"

    def __enter__(self) -> FakeGitLab:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()

    def hold(
        self, deployment: int, job: int, name: str, pipeline: int, environment: str, user: str
    ) -> None:
        """A deploy job of PIPELINE, run by USER, that GitLab holds for approval: a manual
        job and its `blocked` deployment."""
        self.jobs[job] = {"id": job, "name": name, "status": "manual", "pipeline_id": pipeline}
        self.deployments[deployment] = {
            "id": deployment,
            "status": "blocked",
            "environment": {"name": environment},
            "user": {"username": user},
            "deployable": {
                "id": job,
                "name": name,
                "status": "manual",
                "pipeline": {"id": pipeline},
            },
            "approvals": [],
        }

    def posted(self, tail: str) -> list[Call]:
        """The POSTs whose path ends with TAIL."""
        return [c for c in self.calls if c.method == "POST" and c.path.endswith(tail)]

    # --- the API --------------------------------------------------------------------------

    def answer(self, call: Call) -> tuple[int, Any]:
        with self.lock:
            self.calls.append(call)
            user = self.tokens.get(call.token or "")
            if user is None:
                return 401, {"message": "401 Unauthorized"}
            parts = call.path.removeprefix(f"/api/v4/projects/{self.project}/").split("/")
            match call.method, parts:
                case "GET", ["deployments"]:
                    return 200, self.list_deployments(call.query)
                case "POST", ["deployments", deployment, "approval"]:
                    return self.approve(int(deployment), call.form, user)
                case "GET", ["jobs", job] if int(job) in self.jobs:
                    return 200, self.jobs[int(job)]
                case "POST", ["jobs", job, "play"] if int(job) in self.jobs:
                    return self.play(int(job), user)
            return 404, {"message": "404 Not found"}

    def list_deployments(self, query: dict[str, str]) -> list[dict[str, Any]]:
        found = [
            d
            for d in self.deployments.values()
            if d["environment"]["name"] == query.get("environment", d["environment"]["name"])
            and d["status"] == query.get("status", d["status"])
        ]
        return sorted(found, key=lambda d: d["id"], reverse=query.get("sort") == "desc")

    def approve(self, id_: int, form: dict[str, str], user: str) -> tuple[int, Any]:
        deployment = self.deployments.get(id_)
        if deployment is None:
            return 404, {"message": "404 Deployment Not Found"}
        status = form.get("status")
        if status not in ("approved", "rejected"):
            return 400, {"error": "status does not have a valid value"}
        if deployment["status"] != "blocked":
            return 400, {"message": "This deployment is not waiting for approvals."}
        if status == "approved" and deployment["user"]["username"] == user:
            return 400, {"message": "You cannot approve your own deployment."}
        approval = {"user": {"username": user}, "status": status, "comment": form.get("comment")}
        deployment["approvals"].append(approval)
        job = self.jobs[deployment["deployable"]["id"]]
        if status == "rejected":
            job["status"] = deployment["status"] = "failed"  # the job fails: rejected
        else:
            deployment["status"] = "created"  # with approval rules the job stays manual
        return 201, approval

    def play(self, job_id: int, user: str) -> tuple[int, Any]:
        job = self.jobs[job_id]
        if job["status"] != "manual":
            return 400, {"message": "400 Unplayable Job"}
        job.update(status="pending", user={"username": user})
        return 200, job


def _handler(gitlab: FakeGitLab) -> type[http.server.BaseHTTPRequestHandler]:
    class Handler(http.server.BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:
            pass

        def handle_call(self) -> None:
            url = urlsplit(self.path)
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length).decode() if length else ""
            call = Call(
                self.command,
                url.path,
                {k: v[-1] for k, v in parse_qs(url.query).items()},
                {k: v[-1] for k, v in parse_qs(raw).items()},
                self.headers.get("PRIVATE-TOKEN"),
            )
            status, body = gitlab.answer(call)
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        do_GET = do_POST = handle_call

    return Handler
