"""Bounded HTTP fetches for checks, and plain-words descriptions of what went wrong."""

from __future__ import annotations

import ssl
from dataclasses import dataclass
from http import HTTPStatus
from urllib.parse import urlsplit

import httpx

from checks.base import CheckContext


@dataclass(frozen=True)
class Fetched:
    status: int
    headers: httpx.Headers
    body: bytes
    truncated: bool

    @property
    def status_text(self) -> str:
        try:
            return f"{self.status} {HTTPStatus(self.status).phrase}"
        except ValueError:
            return str(self.status)


def short_url(url: str) -> str:
    """The part of a URL a person recognises in a one-line reason: the path and query."""
    parts = urlsplit(url)
    path = parts.path or "/"
    return f"{path}?{parts.query}" if parts.query else path


async def fetch(
    ctx: CheckContext,
    method: str,
    url: str,
    headers: dict[str, str] | None = None,
    read_body: bool = True,
) -> Fetched:
    """One request; reads at most ctx.max_body_bytes of the body, however much is sent."""
    async with ctx.http.stream(method, url, headers=headers) as response:
        chunks: list[bytes] = []
        size, truncated = 0, False
        if read_body:
            async for chunk in response.aiter_raw():
                chunks.append(chunk)
                size += len(chunk)
                if size >= ctx.max_body_bytes:
                    truncated = True
                    break
        body = b"".join(chunks)[: ctx.max_body_bytes]
        return Fetched(response.status_code, response.headers, body, truncated)


def describe_error(method: str, url: str, exc: Exception) -> str:
    """Why a request produced no answer, in words: refused, DNS, TLS, redirects, timeout."""
    target = f"{method} {url}"
    host = urlsplit(url).netloc
    if isinstance(exc, httpx.TooManyRedirects):
        return f"{target} redirected too many times"
    if isinstance(exc, httpx.ConnectTimeout):
        return f"{target}: connecting to {host} timed out"
    if isinstance(exc, httpx.TimeoutException):
        return f"{target}: no answer in time"
    if isinstance(exc, httpx.ConnectError):
        cause = exc.__cause__ or exc.__context__
        text = str(exc) or repr(cause)
        if isinstance(cause, ssl.SSLError) or "SSL" in text or "CERTIFICATE" in text:
            return f"{target}: TLS failed ({text})"
        if "Name or service not known" in text or "nodename nor servname" in text:
            return f"{target}: host {host.split(':')[0]} not found (DNS)"
        if "refused" in text.lower():
            return f"{target}: connection refused by {host}"
        return f"{target}: could not connect to {host} ({text})"
    if isinstance(exc, httpx.RemoteProtocolError):
        return f"{target}: the server broke the connection ({exc})"
    if isinstance(exc, httpx.UnsupportedProtocol | httpx.InvalidURL):
        return f"{target}: bad URL ({exc})"
    return f"{target}: {type(exc).__name__}: {exc}"
