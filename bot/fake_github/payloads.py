"""The webhooks GitHub sends an app, built and signed as GitHub does. Pure functions.

Shapes follow GitHub's "Webhook events and payloads" (`deployment_protection_rule`,
`deployment_status`); only the fields a consumer reads are filled in, with real names.
Signing follows "Validating webhook deliveries": `X-Hub-Signature-256` is `sha256=` and
the hex HMAC-SHA256 of the raw body, keyed with the webhook secret.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Mapping
from typing import Any

from bot.fake_github.model import JSON

WEB = "https://github.com"
JSON_TYPE = "application/json"
USER_AGENT = "GitHub-Hookshot/5f1b2c3"
ACTIONS_BOT: JSON = {
    "login": "github-actions[bot]",
    "id": 41898282,
    "type": "Bot",
    "html_url": f"{WEB}/apps/github-actions",
}
DEPLOYMENT_STATES = ("error", "failure", "inactive", "in_progress", "pending", "queued", "success")


def sign(secret: str, body: bytes) -> str:
    """`X-Hub-Signature-256`'s value for `body`: `sha256=<hex HMAC-SHA256>`."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def sign_sha1(secret: str, body: bytes) -> str:
    """The legacy `X-Hub-Signature` GitHub still sends beside it: `sha1=<hex HMAC-SHA1>`."""
    return "sha1=" + hmac.new(secret.encode(), body, hashlib.sha1).hexdigest()


def encode(payload: Mapping[str, Any]) -> bytes:
    """The body GitHub posts: compact JSON, UTF-8."""
    return json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode()


def run_url(repo: str, run_id: int) -> str:
    """The run's page on github.com."""
    return f"{WEB}/{repo}/actions/runs/{run_id}"


def callback_url(api_url: str, repo: str, run_id: int) -> str:
    """`deployment_callback_url`: where the app reviews the run's rule."""
    return f"{api_url.rstrip('/')}/repos/{repo}/actions/runs/{run_id}/deployment_protection_rule"


def repository(repo: str, repo_id: int, api_url: str) -> JSON:
    owner, name = repo.split("/")
    return {
        "id": repo_id,
        "name": name,
        "full_name": repo,
        "private": True,
        "owner": {"login": owner, "type": "Organization", "html_url": f"{WEB}/{owner}"},
        "html_url": f"{WEB}/{repo}",
        "url": f"{api_url.rstrip('/')}/repos/{repo}",
    }


def deployment(
    deployment_id: int,
    repo: str,
    sha: str,
    ref: str,
    environment: str,
    api_url: str,
) -> JSON:
    return {
        "id": deployment_id,
        "url": f"{api_url.rstrip('/')}/repos/{repo}/deployments/{deployment_id}",
        "sha": sha,
        "ref": ref,
        "task": "deploy",
        "environment": environment,
        "original_environment": environment,
        "creator": dict(ACTIONS_BOT),
        "statuses_url": f"{api_url.rstrip('/')}/repos/{repo}/deployments/{deployment_id}/statuses",
    }


def deployment_protection_rule(
    *,
    repo: str,
    repo_id: int,
    environment: str,
    sha: str,
    ref: str,
    run_id: int,
    installation_id: int,
    api_url: str,
    deployment: JSON | None,
    event: str = "push",
    sender: Mapping[str, Any] | None = None,
) -> JSON:
    """The `deployment_protection_rule` event, `action: requested`."""
    return {
        "action": "requested",
        "environment": environment,
        "event": event,
        "sha": sha,
        "ref": ref,
        "deployment_callback_url": callback_url(api_url, repo, run_id),
        "deployment": deployment,
        "pull_requests": [],
        "repository": repository(repo, repo_id, api_url),
        "organization": {"login": repo.split("/")[0]},
        "installation": {"id": installation_id},
        "sender": dict(sender or {"login": "octocat", "id": 583231, "type": "User"}),
    }


def deployment_status(
    *,
    repo: str,
    repo_id: int,
    environment: str,
    sha: str,
    ref: str,
    state: str,
    run_id: int,
    job_id: int,
    status_id: int,
    deployment: JSON,
    installation_id: int,
    api_url: str,
    workflow_name: str = "Deploy",
) -> JSON:
    """The `deployment_status` event (`action: created`) GitHub Actions causes as a job
    that targets an environment moves on: its `deployment_status.state`, the deployment
    (sha, environment, ref), and the `workflow_run` and `check_run` (the job) behind it."""
    if state not in DEPLOYMENT_STATES:
        raise ValueError(f"a deployment status is one of {DEPLOYMENT_STATES}, not {state!r}")
    run_link = run_url(repo, run_id)
    job_link = f"{run_link}/job/{job_id}"
    api = api_url.rstrip("/")
    finished = state in ("success", "failure", "error", "inactive")
    return {
        "action": "created",
        "deployment_status": {
            "id": status_id,
            "state": state,
            "description": "",
            "environment": environment,
            "target_url": job_link,
            "log_url": job_link,
            "environment_url": "",
            "creator": dict(ACTIONS_BOT),
            "url": f"{api}/repos/{repo}/deployments/{deployment['id']}/statuses/{status_id}",
            "deployment_url": deployment["url"],
            "repository_url": f"{api}/repos/{repo}",
        },
        "deployment": deployment,
        "check_run": {
            "id": job_id,
            "name": "deploy",
            "head_sha": sha,
            "status": "completed" if finished else "in_progress",
            "conclusion": _conclusion(state) if finished else None,
            "html_url": job_link,
            "details_url": job_link,
            "url": f"{api}/repos/{repo}/check-runs/{job_id}",
        },
        "workflow_run": {
            "id": run_id,
            "name": workflow_name,
            "head_sha": sha,
            "head_branch": ref.removeprefix("refs/heads/"),
            "event": "push",
            "status": "in_progress",
            "conclusion": None,
            "run_attempt": 1,
            "html_url": run_link,
            "url": f"{api}/repos/{repo}/actions/runs/{run_id}",
        },
        "workflow": {"name": workflow_name, "path": ".github/workflows/deploy.yml"},
        "repository": repository(repo, repo_id, api_url),
        "installation": {"id": installation_id},
        "sender": dict(ACTIONS_BOT),
    }


def _conclusion(state: str) -> str:
    return {"success": "success", "inactive": "cancelled"}.get(state, "failure")


def headers(
    event: str,
    delivery_id: str,
    body: bytes,
    secret: str | None,
    hook_id: int = 420001,
    app_id: int | None = None,
) -> dict[str, str]:
    """The headers of one delivery (signed when there is a secret, as GitHub does)."""
    sent = {
        "Content-Type": JSON_TYPE,
        "User-Agent": USER_AGENT,
        "X-GitHub-Event": event,
        "X-GitHub-Delivery": delivery_id,
        "X-GitHub-Hook-ID": str(hook_id),
    }
    if app_id is not None:
        sent["X-GitHub-Hook-Installation-Target-Type"] = "integration"
        sent["X-GitHub-Hook-Installation-Target-ID"] = str(app_id)
    if secret is not None:
        sent["X-Hub-Signature"] = sign_sha1(secret, body)
        sent["X-Hub-Signature-256"] = sign(secret, body)
    return sent
