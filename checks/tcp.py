"""`tcp`: a port that must accept a connection."""

from __future__ import annotations

import asyncio
import errno
import socket
import time
from typing import Literal

from pydantic import Field

from checks.base import CheckContext, CheckParams, CheckType, Outcome


class TcpParams(CheckParams):
    type: Literal["tcp"] = "tcp"
    host: str = Field(min_length=1)
    port: int = Field(ge=1, le=65535)


def describe_connect_error(host: str, port: int, exc: OSError) -> str:
    """Why a connection did not open, in words: refused, DNS, or what the system said."""
    where = f"{host}:{port}"
    # With several addresses (localhost: ::1 and 127.0.0.1) asyncio joins the errors in one text.
    if exc.errno == errno.ECONNREFUSED or f"[Errno {errno.ECONNREFUSED}]" in str(exc):
        return f"connection to {where} refused"
    if isinstance(exc, socket.gaierror):
        return f"host {host} not found (DNS)"
    return f"could not connect to {where} ({exc.strerror or exc})"


async def run(params: TcpParams, ctx: CheckContext) -> Outcome:
    where = f"{params.host}:{params.port}"
    started = time.perf_counter()
    try:
        _, writer = await asyncio.open_connection(params.host, params.port)
    except OSError as exc:
        return Outcome.errored(describe_connect_error(params.host, params.port, exc))
    ms = (time.perf_counter() - started) * 1000
    peer = writer.get_extra_info("peername")
    writer.close()
    try:
        await writer.wait_closed()
    except OSError:
        pass  # the connection opened; how it closed does not matter here
    values = {"connect_ms": round(ms, 1), "address": peer[0] if peer else None}
    return Outcome.passed(f"{where} accepted a connection in {ms:.0f} ms", **values)


CHECK = CheckType("tcp", TcpParams, run)
