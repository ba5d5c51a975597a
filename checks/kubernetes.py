"""`kubernetes`: every node Ready, or a deployment fully rolled out and available."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import ssl
from typing import Any, Literal
from urllib.parse import quote

import httpx
from pydantic import Field, model_validator

from checks.base import CheckContext, CheckParams, CheckType, Outcome
from checks.httpfetch import describe_error, fetch

_K8S_NAME = r"^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$"
_PAGE = 100  # nodes per request, so a large cluster stays under the body cap


class KubernetesParams(CheckParams):
    type: Literal["kubernetes"] = "kubernetes"
    api_url: str = Field(pattern=r"^https?://")
    token_env: str | None = Field(default=None, min_length=1)
    token_file: str | None = Field(default=None, min_length=1)
    ca_file: str | None = Field(default=None, min_length=1)
    kind: Literal["nodes", "deployment"]
    namespace: str = Field(default="default", pattern=_K8S_NAME)
    name: str | None = Field(default=None, pattern=_K8S_NAME)

    @model_validator(mode="after")
    def _consistent(self) -> KubernetesParams:
        if self.token_env and self.token_file:
            raise ValueError("give token_env or token_file, not both")
        if self.kind == "deployment" and not self.name:
            raise ValueError("name is required when kind is deployment")
        if self.kind == "nodes" and self.name:
            raise ValueError("name is only for kind deployment")
        return self


class ApiError(Exception):
    """The API gave no usable answer; the message says why, in words."""


def _read_token(path: str) -> str:
    with open(path, encoding="utf-8") as file:
        return file.read().strip()


async def _token(params: KubernetesParams, ctx: CheckContext) -> str | None:
    if params.token_env:
        token = ctx.environ.get(params.token_env)
        if not token:
            raise ApiError(f"no token: environment variable {params.token_env} is not set")
        return token
    if params.token_file:
        try:
            return await asyncio.to_thread(_read_token, params.token_file)
        except OSError as exc:
            why = exc.strerror or exc
            raise ApiError(f"cannot read token_file {params.token_file}: {why}") from None
    return None


async def _get(ctx: CheckContext, url: str, headers: dict[str, str]) -> dict[str, Any]:
    try:
        got = await fetch(ctx, "GET", url, headers)
    except httpx.HTTPError as exc:
        raise ApiError(describe_error("GET", url, exc)) from None
    if got.truncated:
        raise ApiError(f"the API's answer is over the {ctx.max_body_bytes // 1024} KB read limit")
    try:
        body = json.loads(got.body)
    except ValueError:
        raise ApiError(f"Kubernetes answered {got.status_text} without JSON") from None
    if got.status != 200:
        message = body.get("message") if isinstance(body, dict) else None
        raise ApiError(f"Kubernetes answered {got.status_text}: {message or 'no message'}")
    if not isinstance(body, dict):
        raise ApiError("Kubernetes answered with something other than an object")
    return body


def _ready(node: dict[str, Any]) -> bool:
    conditions = (node.get("status") or {}).get("conditions") or []
    return any(c.get("type") == "Ready" and c.get("status") == "True" for c in conditions)


async def _nodes(ctx: CheckContext, base: str, headers: dict[str, str]) -> Outcome:
    nodes: list[dict[str, Any]] = []
    page: dict[str, Any] = {"limit": _PAGE}
    while True:
        body = await _get(ctx, f"{base}/api/v1/nodes?{httpx.QueryParams(page)}", headers)
        nodes += body.get("items") or []
        page["continue"] = (body.get("metadata") or {}).get("continue")
        if not page["continue"]:
            break
    if not nodes:
        return Outcome.errored("the cluster listed no nodes")
    not_ready = [(n.get("metadata") or {}).get("name", "?") for n in nodes if not _ready(n)]
    ready, total = len(nodes) - len(not_ready), len(nodes)
    values = {"nodes": total, "ready": ready, "not_ready": not_ready[:20]}
    if not_ready:
        more = f" and {len(not_ready) - 5} more" if len(not_ready) > 5 else ""
        return Outcome.failed(
            f"{ready}/{total} nodes Ready; not ready: {', '.join(not_ready[:5])}{more}", **values
        )
    return Outcome.passed(f"{ready}/{total} nodes Ready", **values)


async def _deployment(
    ctx: CheckContext, base: str, headers: dict[str, str], namespace: str, name: str
) -> Outcome:
    path = f"/apis/apps/v1/namespaces/{quote(namespace)}/deployments/{quote(name)}"
    body = await _get(ctx, base + path, headers)
    spec, status = body.get("spec") or {}, body.get("status") or {}
    wanted = spec.get("replicas", 1)
    available = status.get("availableReplicas", 0)  # omitted by the API when zero
    updated = status.get("updatedReplicas", 0)
    generation = (body.get("metadata") or {}).get("generation", 0)
    observed = status.get("observedGeneration", 0)
    values = {
        "replicas": wanted,
        "available": available,
        "updated": updated,
        "ready": status.get("readyReplicas", 0),
        "generation": generation,
        "observed_generation": observed,
    }
    problems = []
    if available != wanted:
        problems.append(f"{available}/{wanted} replicas available")
    if updated != wanted:
        problems.append(f"{updated}/{wanted} replicas updated")
    if observed < generation:
        problems.append(f"generation {generation} not yet observed (at {observed})")
    for condition in status.get("conditions") or []:
        if condition.get("reason") == "ProgressDeadlineExceeded":
            problems.append("rollout exceeded its progress deadline")
    if problems:
        return Outcome.failed(f"{name}: {'; '.join(problems)}", **values)
    return Outcome.passed(f"{name}: {available}/{wanted} replicas available and updated", **values)


async def run(params: KubernetesParams, ctx: CheckContext) -> Outcome:
    base = params.api_url.rstrip("/")
    try:
        token = await _token(params, ctx)
        headers = {"Accept": "application/json"}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        if params.ca_file is None:
            return await _check(params, ctx, base, headers)
        try:
            trust = await asyncio.to_thread(ssl.create_default_context, cafile=params.ca_file)
        except OSError as exc:
            raise ApiError(f"cannot read ca_file {params.ca_file}: {exc.strerror or exc}") from None
        # The cluster's own CA: a short-lived client of its own, not the shared one.
        timeout = params.timeout.total_seconds()
        async with httpx.AsyncClient(verify=trust, timeout=timeout) as client:
            return await _check(params, dataclasses.replace(ctx, http=client), base, headers)
    except ApiError as exc:
        return Outcome.errored(str(exc))


async def _check(
    params: KubernetesParams, ctx: CheckContext, base: str, headers: dict[str, str]
) -> Outcome:
    if params.kind == "nodes":
        return await _nodes(ctx, base, headers)
    return await _deployment(ctx, base, headers, params.namespace, params.name or "")


CHECK = CheckType("kubernetes", KubernetesParams, run)
