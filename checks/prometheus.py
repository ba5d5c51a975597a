"""`prometheus`: an instant PromQL query whose every sample must meet a threshold."""

from __future__ import annotations

import json
import math
import operator
from collections.abc import Callable
from typing import Any, Literal

import httpx
from pydantic import Field

from checks.base import CheckContext, CheckParams, CheckType, Outcome
from checks.httpfetch import describe_error, fetch

Op = Literal["<", "<=", ">", ">=", "==", "!="]
OPS: dict[str, Callable[[float, float], bool]] = {
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
    "==": operator.eq,
    "!=": operator.ne,
}


class PrometheusParams(CheckParams):
    type: Literal["prometheus"] = "prometheus"
    url: str = Field(pattern=r"^https?://")
    query: str = Field(min_length=1)
    op: Op
    threshold: float


def _label(metric: dict[str, str]) -> str:
    name = metric.get("__name__", "")
    labels = ",".join(f'{k}="{v}"' for k, v in sorted(metric.items()) if k != "__name__")
    return f"{name}{{{labels}}}" if labels else (name or "{}")


def _samples(data: dict[str, Any]) -> list[tuple[str, float]]:
    kind, result = data.get("resultType"), data.get("result") or []
    if kind == "scalar":
        return [("scalar", float(result[1]))]
    if kind == "vector":
        return [(_label(s.get("metric", {})), float(s["value"][1])) for s in result]
    raise ValueError(f"unsupported result type {kind!r} (use an instant query)")


async def run(params: PrometheusParams, ctx: CheckContext) -> Outcome:
    url = (
        params.url.rstrip("/") + "/api/v1/query?" + httpx.QueryParams(query=params.query).__str__()
    )
    try:
        got = await fetch(ctx, "GET", url)
    except httpx.HTTPError as exc:
        return Outcome.errored(describe_error("GET", url, exc))
    try:
        body = json.loads(got.body)
    except ValueError:
        return Outcome.errored(f"Prometheus answered {got.status_text} without JSON")
    if body.get("status") != "success":
        return Outcome.errored(
            f"Prometheus refused the query: {body.get('error', got.status_text)}"
        )
    try:
        samples = _samples(body.get("data", {}))
    except (ValueError, KeyError, TypeError, IndexError) as exc:
        return Outcome.errored(f"Prometheus answer not understood: {exc}")
    if not samples:
        return Outcome.errored("the query returned no samples")
    compare = OPS[params.op]
    bad = [(name, v) for name, v in samples if math.isnan(v) or not compare(v, params.threshold)]
    values = {"samples": {name: v for name, v in samples[:20]}, "count": len(samples)}
    worst = max(v for _, v in samples) if params.op in ("<", "<=") else min(v for _, v in samples)
    values["worst"] = worst
    if bad:
        shown = ", ".join(f"{name} = {v:g}" for name, v in bad[:3])
        more = f" and {len(bad) - 3} more" if len(bad) > 3 else ""
        return Outcome.failed(
            f"{len(bad)} of {len(samples)} sample(s) not {params.op} {params.threshold:g}: "
            f"{shown}{more}",
            **values,
        )
    return Outcome.passed(
        f"{len(samples)} sample(s) {params.op} {params.threshold:g} (worst {worst:g})", **values
    )


CHECK = CheckType("prometheus", PrometheusParams, run)
