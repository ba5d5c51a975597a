"""`document`: a file or URL that must exist with at least `min_lines` non-blank lines.

Also home to what `coverage` shares with it: a `path` or `url` source, read bounded.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Literal

import httpx
from pydantic import Field, model_validator

from checks.base import CheckContext, CheckParams, CheckType, Outcome
from checks.httpfetch import describe_error, fetch, short_url


class SourceMissing(Exception):
    """The document is not there (no such file, 404): the target answered wrongly."""


class SourceUnreadable(Exception):
    """The document could not be read, so nothing can be told about it."""


class SourceParams(CheckParams):
    """A local file or an http(s) URL: exactly one of them."""

    path: str | None = Field(default=None, min_length=1)
    url: str | None = Field(default=None, pattern=r"^https?://")

    @model_validator(mode="after")
    def _one_source(self) -> SourceParams:
        if (self.path is None) == (self.url is None):
            raise ValueError("give exactly one of path or url")
        return self

    @property
    def source(self) -> str:
        """How reasons name it: the path as written, or the URL's path."""
        return self.path if self.path is not None else short_url(self.url or "")


@dataclass(frozen=True)
class Read:
    body: bytes
    truncated: bool


def _read_file(path: str, limit: int) -> Read:
    with open(path, "rb") as file:
        data = file.read(limit + 1)
    return Read(data[:limit], len(data) > limit)


async def read_source(params: SourceParams, ctx: CheckContext) -> Read:
    """At most ctx.max_body_bytes of the file or URL; raises SourceMissing or SourceUnreadable."""
    if params.path is not None:
        try:
            return await asyncio.to_thread(_read_file, params.path, ctx.max_body_bytes)
        except FileNotFoundError:
            raise SourceMissing(f"{params.path} does not exist") from None
        except OSError as exc:
            raise SourceUnreadable(f"cannot read {params.path}: {exc.strerror or exc}") from None
    url = params.url or ""
    try:
        got = await fetch(ctx, "GET", url)
    except httpx.HTTPError as exc:
        raise SourceUnreadable(describe_error("GET", url, exc)) from None
    if got.status in (404, 410):
        raise SourceMissing(f"GET {short_url(url)} answered {got.status_text}")
    if not 200 <= got.status < 300:
        raise SourceUnreadable(f"GET {short_url(url)} answered {got.status_text}")
    return Read(got.body, got.truncated)


class DocumentParams(SourceParams):
    type: Literal["document"] = "document"
    min_lines: int = Field(default=1, ge=1)


async def run(params: DocumentParams, ctx: CheckContext) -> Outcome:
    try:
        read = await read_source(params, ctx)
    except SourceMissing as exc:
        return Outcome.failed(str(exc))
    except SourceUnreadable as exc:
        return Outcome.errored(str(exc))
    text = read.body.decode("utf-8", errors="replace")
    lines = sum(1 for line in text.splitlines() if line.strip())
    values = {"lines": lines, "bytes": len(read.body), "truncated": read.truncated}
    counted = f"{lines}+" if read.truncated else str(lines)
    plural = "line" if lines == 1 else "lines"
    if lines < params.min_lines:
        return Outcome.failed(
            f"{params.source} has {counted} {plural}, needs {params.min_lines}", **values
        )
    return Outcome.passed(
        f"{params.source} has {counted} {plural}, at least {params.min_lines}", **values
    )


CHECK = CheckType("document", DocumentParams, run)
