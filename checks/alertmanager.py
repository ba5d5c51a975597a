"""`alertmanager`: passes when no active alert of the given severity (and matchers) is firing."""

from __future__ import annotations

import json
import re
from collections import Counter
from typing import Any, Literal

import httpx
from pydantic import Field, field_validator

from checks.base import CheckContext, CheckParams, CheckType, Outcome
from checks.httpfetch import describe_error, fetch

LABEL_NAME = re.compile(r"[a-zA-Z_][a-zA-Z0-9_]*")
SHOWN = 5  # alert names listed in a reason
PLAIN = {"Accept": "application/json"}


class AlertmanagerParams(CheckParams):
    type: Literal["alertmanager"] = "alertmanager"
    url: str = Field(pattern=r"^https?://")
    severity: str | None = "critical"
    matchers: dict[str, str] = Field(default_factory=dict)

    @field_validator("matchers")
    @classmethod
    def _label_names(cls, matchers: dict[str, str]) -> dict[str, str]:
        bad = [name for name in matchers if not LABEL_NAME.fullmatch(name)]
        if bad:
            raise ValueError(
                f"not a label name: {', '.join(map(repr, bad))} (letters, digits and _)"
            )
        return matchers


def matcher(name: str, value: str) -> str:
    """`name="value"`, quoted as Alertmanager parses a matcher: \\ " and newline escaped."""
    quoted = value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    return f'{name}="{quoted}"'


def _names(alerts: list[dict[str, Any]]) -> str:
    counts = Counter(str((a.get("labels") or {}).get("alertname", "?")) for a in alerts)
    named = [f"{name} ×{n}" if n > 1 else name for name, n in sorted(counts.items())]
    more = f" and {len(named) - SHOWN} more" if len(named) > SHOWN else ""
    return ", ".join(named[:SHOWN]) + more


def _error_text(body: bytes) -> str:
    """Alertmanager's error body is a JSON string ("bad matcher format: ..."); else plain text."""
    text = body.decode(errors="replace").strip()
    try:
        decoded = json.loads(text)
    except ValueError:
        decoded = text
    if isinstance(decoded, dict):
        decoded = decoded.get("message") or decoded.get("error") or text
    return " ".join(str(decoded).split())[:200]


async def run(params: AlertmanagerParams, ctx: CheckContext) -> Outcome:
    wanted = dict(params.matchers)
    if params.severity:
        wanted["severity"] = params.severity
    filters: list[tuple[str, str | int | float | bool | None]] = [
        ("active", "true"),
        ("silenced", "false"),
        ("inhibited", "false"),
    ]
    filters += [("filter", matcher(k, v)) for k, v in wanted.items()]
    url = params.url.rstrip("/") + "/api/v2/alerts?" + str(httpx.QueryParams(filters))
    try:
        got = await fetch(ctx, "GET", url, headers=PLAIN)
    except httpx.HTTPError as exc:
        return Outcome.errored(describe_error("GET", url, exc))
    if got.status != 200:
        detail = _error_text(got.body)
        return Outcome.errored(
            f"Alertmanager answered {got.status_text}" + (f": {detail}" if detail else "")
        )
    try:
        alerts = json.loads(got.body)
    except ValueError:
        alerts = None
    if not isinstance(alerts, list) or not all(isinstance(a, dict) for a in alerts):
        return Outcome.errored("Alertmanager's answer is not a list of alerts")
    what = f"{params.severity} alert" if params.severity else "alert"
    among = ", ".join(matcher(k, v) for k, v in params.matchers.items())
    scope = f" matching {among}" if among else ""
    if alerts:
        names = sorted({str((a.get("labels") or {}).get("alertname", "?")) for a in alerts})
        plural = what if len(alerts) == 1 else what + "s"
        return Outcome.failed(
            f"{len(alerts)} {plural} firing{scope}: {_names(alerts)}",
            firing=len(alerts),
            alerts=names,
        )
    return Outcome.passed(f"no {what}s firing{scope}", firing=0)


CHECK = CheckType("alertmanager", AlertmanagerParams, run)
