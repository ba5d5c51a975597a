"""Bounded HTTP fetches for checks, and plain-words descriptions of what went wrong."""

from __future__ import annotations

import socket
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
    """One request; reads at most ctx.max_body_bytes of the (decoded) body, however much is
    sent. Compressed answers (Prometheus gzips its API) are decoded chunk by chunk."""
    async with ctx.http.stream(method, url, headers=headers) as response:
        chunks: list[bytes] = []
        size, truncated = 0, False
        if read_body:
            async for chunk in response.aiter_bytes():
                chunks.append(chunk)
                size += len(chunk)
                if size >= ctx.max_body_bytes:
                    truncated = True
                    break
        body = b"".join(chunks)[: ctx.max_body_bytes]
        return Fetched(response.status_code, response.headers, body, truncated)


def _causes(exc: BaseException) -> list[BaseException]:
    seen: list[BaseException] = []
    current: BaseException | None = exc
    while current is not None and current not in seen:
        seen.append(current)
        if isinstance(current, BaseExceptionGroup):
            seen.extend(current.exceptions)
        current = current.__cause__ or current.__context__
    return seen


def describe_error(method: str, url: str, exc: Exception) -> str:
    """Why a request produced no answer, in words: refused, DNS, TLS, redirects, timeout."""
    target = f"{method} {short_url(url)}"
    host = urlsplit(url).netloc
    causes = _causes(exc)
    text = " ".join(str(c) for c in causes)
    if isinstance(exc, httpx.TooManyRedirects):
        return f"{target} redirected too many times"
    if isinstance(exc, httpx.ConnectTimeout):
        return f"{target}: connecting to {host} timed out"
    if isinstance(exc, httpx.TimeoutException):
        return f"{target}: no answer in time"
    if isinstance(exc, httpx.ConnectError):
        if any(isinstance(c, ssl.SSLError) for c in causes) or "CERTIFICATE" in text:
            return f"{target}: TLS failed ({exc})"
        if any(isinstance(c, ConnectionRefusedError) for c in causes) or "refused" in text:
            return f"{target}: connection refused by {host}"
        if any(isinstance(c, socket.gaierror) for c in causes) or "not known" in text:
            return f"{target}: host {urlsplit(url).hostname} not found (DNS)"
        return f"{target}: could not connect to {host} ({exc})"
    if isinstance(exc, httpx.RemoteProtocolError):
        return f"{target}: the server broke the connection ({exc})"
    if isinstance(exc, httpx.UnsupportedProtocol | httpx.InvalidURL):
        return f"{target}: bad URL ({exc})"
    return f"{target}: {type(exc).__name__}: {exc}"
