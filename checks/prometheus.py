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
SHOWN = 3  # samples named in a reason
KEPT = 20  # samples kept in the values
PLAIN = {"Accept": "application/json"}


class PrometheusParams(CheckParams):
    type: Literal["prometheus"] = "prometheus"
    url: str = Field(pattern=r"^https?://")
    query: str = Field(min_length=1)
    op: Op
    threshold: float


class NotUnderstood(ValueError):
    """The answer is valid JSON, but not an instant query's result."""


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
    if kind == "matrix":
        raise NotUnderstood("the query returned a range vector: drop the [range] selector")
    if kind == "string":
        raise NotUnderstood("the query returned a string, not a number")
    raise NotUnderstood(f"unknown result type {kind!r}")


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def _number(value: float) -> float | str:
    """A sample value for the values dict: JSON has no NaN or infinities, so spell them."""
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    return value


def _text(value: float) -> str:
    """A value as Prometheus writes it: 0.25, 1e-06, NaN, +Inf."""
    number = _number(value)
    return number if isinstance(number, str) else f"{number:g}"


def _listed(samples: list[tuple[str, float]]) -> str:
    shown = ", ".join(f"{name} = {_text(value)}" for name, value in samples[:SHOWN])
    more = f" and {len(samples) - SHOWN} more" if len(samples) > SHOWN else ""
    return shown + more


async def run(params: PrometheusParams, ctx: CheckContext) -> Outcome:
    url = params.url.rstrip("/") + "/api/v1/query?" + str(httpx.QueryParams(query=params.query))
    try:
        got = await fetch(ctx, "GET", url, headers=PLAIN)
    except httpx.HTTPError as exc:
        return Outcome.errored(describe_error("GET", url, exc))
    if got.truncated:
        return Outcome.errored(
            f"Prometheus's answer is over {ctx.max_body_bytes // 1024} KiB: "
            "aggregate the query to fewer series"
        )
    try:
        body = json.loads(got.body)
    except ValueError:
        body = None
    if not isinstance(body, dict):
        return Outcome.errored(f"Prometheus answered {got.status_text} without JSON")
    if body.get("status") != "success":
        # Prometheus: 400 bad_data (PromQL syntax), 422 execution, 503 timeout/unavailable.
        kind = body.get("errorType")
        return Outcome.errored(
            f"Prometheus refused the query ({kind or got.status_text}): "
            f"{body.get('error') or got.status_text}",
            status=got.status,
        )
    try:
        samples = _samples(body.get("data") or {})
    except NotUnderstood as exc:
        return Outcome.errored(str(exc))
    except (ValueError, KeyError, TypeError, IndexError, AttributeError) as exc:
        return Outcome.errored(f"Prometheus's answer not understood: {type(exc).__name__}: {exc}")
    if not samples:
        return Outcome.errored("the query returned no samples")
    return _judge(params, samples, body.get("warnings"))


def _judge(params: PrometheusParams, samples: list[tuple[str, float]], warnings: object) -> Outcome:
    compare = OPS[params.op]
    numbers = [(name, v) for name, v in samples if not math.isnan(v)]
    nan = [(name, v) for name, v in samples if math.isnan(v)]
    bad = [(name, v) for name, v in numbers if not compare(v, params.threshold)]
    # The worst sample first: the highest for an upper bound, the lowest for a lower one.
    if params.op in ("<", "<="):
        bad.sort(key=lambda s: -s[1])
    elif params.op in (">", ">="):
        bad.sort(key=lambda s: s[1])
    values: dict[str, Any] = {
        "samples": {name: _number(v) for name, v in samples[:KEPT]},
        "count": len(samples),
        "op": params.op,
        "threshold": params.threshold,
    }
    worst: float | None = None
    if numbers and params.op in ("<", "<=", ">", ">="):
        pick = max if params.op in ("<", "<=") else min
        worst = pick(v for _, v in numbers)
        values["worst"] = _number(worst)
    if warnings:
        values["warnings"] = warnings
    wanted = f"{params.op} {_text(params.threshold)}"
    if bad:
        return Outcome.failed(
            f"{len(bad)} of {_plural(len(samples), 'sample')} not {wanted}: {_listed(bad)}",
            **values,
        )
    if nan:
        # NaN is what a quantile or ratio gives without data (0/0): the check cannot tell.
        return Outcome.errored(
            f"{len(nan)} of {_plural(len(samples), 'sample')} {'is' if len(nan) == 1 else 'are'} "
            f"NaN (no data?): {_listed(nan)}",
            **values,
        )
    shown = ""
    if worst is not None:
        shown = f" ({_text(worst)})" if len(samples) == 1 else f" (worst {_text(worst)})"
    return Outcome.passed(f"{_plural(len(samples), 'sample')} {wanted}{shown}", **values)


CHECK = CheckType("prometheus", PrometheusParams, run)
