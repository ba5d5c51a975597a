"""`headers`: response headers that must be present, absent or have a given value."""

from __future__ import annotations

import re
from typing import Literal

import httpx
from pydantic import Field, model_validator

from checks.base import CheckContext, CheckParams, CheckType, Outcome
from checks.httpfetch import describe_error, fetch, short_url


class HeadersParams(CheckParams):
    type: Literal["headers"] = "headers"
    url: str = Field(pattern=r"^https?://")
    require: dict[str, str] = Field(default_factory=dict)
    present: list[str] = Field(default_factory=list)
    absent: list[str] = Field(default_factory=list)

    @model_validator(mode="after")
    def _something_to_check(self) -> HeadersParams:
        if not (self.require or self.present or self.absent):
            raise ValueError("give at least one of require, present or absent")
        for name, expected in self.require.items():
            if _is_regex(expected):
                try:
                    re.compile(expected[1:-1])
                except re.error as exc:
                    raise ValueError(f"require.{name}: bad regular expression: {exc}") from None
        return self


def _is_regex(expected: str) -> bool:
    return len(expected) >= 2 and expected.startswith("/") and expected.endswith("/")


def _matches(expected: str, actual: str) -> bool:
    if _is_regex(expected):
        return re.search(expected[1:-1], actual) is not None
    return actual.strip().lower() == expected.strip().lower()


async def run(params: HeadersParams, ctx: CheckContext) -> Outcome:
    try:
        got = await fetch(ctx, "GET", params.url, read_body=False)
    except httpx.HTTPError as exc:
        return Outcome.errored(describe_error("GET", params.url, exc))
    problems: list[str] = []
    for name, expected in params.require.items():
        actual = got.headers.get(name)
        if actual is None:
            problems.append(f"{name} missing")
        elif not _matches(expected, actual):
            problems.append(f"{name} is {actual!r}, expected {expected!r}")
    problems += [f"{name} missing" for name in params.present if name not in got.headers]
    problems += [f"{name} should be absent" for name in params.absent if name in got.headers]
    names = [*params.require, *params.present]
    values = {name: got.headers.get(name) for name in names}
    where = f"GET {short_url(params.url)}"
    if problems:
        return Outcome.failed(f"{where}: " + "; ".join(problems), **values)
    checked = len(names) + len(params.absent)
    return Outcome.passed(f"{where}: {checked} header rule(s) hold", **values)


CHECK = CheckType("headers", HeadersParams, run)
