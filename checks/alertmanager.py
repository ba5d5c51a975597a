"""`alertmanager`: passes when no active alert of the given severity (and matchers) is firing."""

from __future__ import annotations

import json
from typing import Literal

import httpx
from pydantic import Field

from checks.base import CheckContext, CheckParams, CheckType, Outcome
from checks.httpfetch import describe_error, fetch


class AlertmanagerParams(CheckParams):
    type: Literal["alertmanager"] = "alertmanager"
    url: str = Field(pattern=r"^https?://")
    severity: str | None = "critical"
    matchers: dict[str, str] = Field(default_factory=dict)


async def run(params: AlertmanagerParams, ctx: CheckContext) -> Outcome:
    wanted = dict(params.matchers)
    if params.severity:
        wanted["severity"] = params.severity
    filters: list[tuple[str, str | int | float | bool | None]] = [
        ("active", "true"),
        ("silenced", "false"),
        ("inhibited", "false"),
    ]
    filters += [("filter", f'{k}="{v}"') for k, v in wanted.items()]
    url = params.url.rstrip("/") + "/api/v2/alerts?" + str(httpx.QueryParams(filters))
    try:
        got = await fetch(ctx, "GET", url)
    except httpx.HTTPError as exc:
        return Outcome.errored(describe_error("GET", url, exc))
    if got.status != 200:
        return Outcome.errored(f"Alertmanager answered {got.status_text}")
    try:
        alerts = json.loads(got.body)
        names = sorted({a.get("labels", {}).get("alertname", "?") for a in alerts})
    except (ValueError, AttributeError):
        return Outcome.errored("Alertmanager's answer is not a list of alerts")
    what = f"{params.severity} " if params.severity else ""
    if alerts:
        return Outcome.failed(
            f"{len(alerts)} {what}alert(s) firing: {', '.join(names)}",
            firing=len(alerts),
            alerts=names,
        )
    return Outcome.passed(f"no {what}alerts firing", firing=0)


CHECK = CheckType("alertmanager", AlertmanagerParams, run)
