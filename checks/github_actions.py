"""`github_actions`: the latest completed run of a workflow on a branch must have succeeded."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Annotated, Any, Literal
from urllib.parse import quote

import httpx
from pydantic import Field

from checks.base import CheckContext, CheckParams, CheckType, Outcome
from checks.httpfetch import describe_error, fetch


class GithubActionsParams(CheckParams):
    type: Literal["github_actions"] = "github_actions"
    repo: str = Field(pattern=r"^[\w.-]+/[\w.-]+$")
    workflow: Annotated[int, Field(ge=1)] | Annotated[str, Field(min_length=1)]  # deploy.yml or id
    branch: str = Field(default="main", min_length=1)
    token_env: str = Field(default="GITHUB_TOKEN", min_length=1)
    api_url: str = Field(default="https://api.github.com", pattern=r"^https?://")


def ago(when: datetime, now: datetime) -> str:
    seconds = max(0, (now - when).total_seconds())
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size:
            return f"{int(seconds // size)}{unit} ago"
    return "just now"


def _when(run: dict[str, Any]) -> datetime | None:
    stamp = run.get("updated_at") or run.get("created_at")
    return datetime.fromisoformat(stamp.replace("Z", "+00:00")) if stamp else None


async def run(params: GithubActionsParams, ctx: CheckContext) -> Outcome:
    workflow = quote(str(params.workflow), safe="")
    query = httpx.QueryParams(branch=params.branch, status="completed", per_page=1)
    url = f"{params.api_url.rstrip('/')}/repos/{params.repo}/actions/workflows/{workflow}/runs"
    url = f"{url}?{query}"
    headers = {"Accept": "application/vnd.github+json", "X-GitHub-Api-Version": "2022-11-28"}
    token = ctx.environ.get(params.token_env)
    if token:
        headers["Authorization"] = f"Bearer {token}"
    try:
        got = await fetch(ctx, "GET", url, headers)
    except httpx.HTTPError as exc:
        return Outcome.errored(describe_error("GET", url, exc))
    try:
        body = json.loads(got.body)
    except ValueError:
        return Outcome.errored(f"GitHub answered {got.status_text} without JSON")
    what = f"{params.workflow} on {params.branch}"
    if got.status != 200:
        message = body.get("message") if isinstance(body, dict) else None
        hint = "" if token else f" (no token in {params.token_env})"
        return Outcome.errored(
            f"GitHub answered {got.status_text} for {params.repo} workflow {params.workflow}: "
            f"{message or 'no message'}{hint}"
        )
    runs = body.get("workflow_runs") or []
    if not runs:
        return Outcome.errored(f"found no completed run of {what} in {params.repo}")
    latest = runs[0]
    conclusion = latest.get("conclusion") or "no conclusion"
    values = {
        "conclusion": conclusion,
        "run_number": latest.get("run_number"),
        "html_url": latest.get("html_url"),
        "head_sha": latest.get("head_sha"),
    }
    when = _when(latest)
    age = f", {ago(when, datetime.now(UTC))}" if when else ""
    reason = f"latest run of {what}: {conclusion} (#{latest.get('run_number')}{age})"
    if conclusion == "success":
        return Outcome.passed(reason, **values)
    return Outcome.failed(reason, **values)


CHECK = CheckType("github_actions", GithubActionsParams, run)
