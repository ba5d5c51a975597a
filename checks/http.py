"""`http`: a request whose status, JSON body or text must be as expected."""

from __future__ import annotations

import json
import re
from typing import Any, Literal

import httpx
from pydantic import Field, field_validator

from checks.base import CheckContext, CheckParams, CheckType, Outcome
from checks.httpfetch import describe_error, fetch, short_url


class HttpParams(CheckParams):
    type: Literal["http"] = "http"
    url: str = Field(pattern=r"^https?://")
    method: Literal["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"] = "GET"
    expect_status: int | list[int] = 200
    expect_json: dict[str, Any] | None = None
    expect_body: str | None = None
    headers: dict[str, str] = Field(default_factory=dict)

    @field_validator("expect_body")
    @classmethod
    def _regex(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                re.compile(value)
            except re.error as exc:
                raise ValueError(f"not a valid regular expression: {exc}") from None
        return value

    @property
    def statuses(self) -> list[int]:
        return self.expect_status if isinstance(self.expect_status, list) else [self.expect_status]


def json_subset_mismatch(expected: Any, actual: Any, path: str = "") -> str | None:
    """Where `actual` fails to contain `expected` (dicts by key, anything else equal)."""
    if isinstance(expected, dict):
        if not isinstance(actual, dict):
            return f"{path or 'body'} is not an object"
        for key, value in expected.items():
            where = f"{path}.{key}" if path else key
            if key not in actual:
                return f"{where} is missing"
            problem = json_subset_mismatch(value, actual[key], where)
            if problem:
                return problem
        return None
    if expected != actual:
        return f"{path or 'body'} is {json.dumps(actual)[:60]}, expected {json.dumps(expected)}"
    return None


async def run(params: HttpParams, ctx: CheckContext) -> Outcome:
    what = f"{params.method} {short_url(params.url)}"
    try:
        got = await fetch(
            ctx, params.method, params.url, params.headers, read_body=params.method != "HEAD"
        )
    except httpx.HTTPError as exc:
        return Outcome.errored(describe_error(params.method, params.url, exc))
    values: dict[str, Any] = {"status": got.status}
    if got.status not in params.statuses:
        expected = " or ".join(str(s) for s in params.statuses)
        return Outcome.failed(f"{what} answered {got.status_text}, expected {expected}", **values)
    if params.expect_json is not None:
        try:
            body = json.loads(got.body)
        except ValueError:
            return Outcome.failed(f"{what} answered {got.status_text} but not JSON", **values)
        problem = json_subset_mismatch(params.expect_json, body)
        if problem:
            return Outcome.failed(f"{what}: {problem}", **values)
    if params.expect_body is not None:
        text = got.body.decode("utf-8", errors="replace")
        if not re.search(params.expect_body, text):
            return Outcome.failed(f"{what}: body does not match /{params.expect_body}/", **values)
    return Outcome.passed(f"{what} answered {got.status_text}", **values)


CHECK = CheckType("http", HttpParams, run)
