"""tcp: a real listening socket, a closed port, an unknown host."""

from __future__ import annotations

import asyncio
import re
import socket

import pytest
from pydantic import ValidationError
from standins import REGISTRY, run_one

from checks import CheckContext, Status


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def test_open_port_passes(ctx: CheckContext) -> None:
    async def greet(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.close()
        await writer.wait_closed()

    server = await asyncio.start_server(greet, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    async with server:
        result = await run_one(ctx, type="tcp", host="127.0.0.1", port=port)
    assert result.status is Status.PASS
    assert re.fullmatch(rf"127\.0\.0\.1:{port} accepted a connection in \d+ ms", result.reason)
    assert result.values["address"] == "127.0.0.1"


async def test_closed_port_is_refused(ctx: CheckContext) -> None:
    port = free_port()
    result = await run_one(ctx, type="tcp", host="127.0.0.1", port=port)
    assert result.status is Status.ERROR
    assert result.reason == f"connection to 127.0.0.1:{port} refused"
    # localhost has two addresses here (::1 and 127.0.0.1): both refusals are still "refused"
    both = await run_one(ctx, type="tcp", host="localhost", port=port)
    assert both.reason == f"connection to localhost:{port} refused"


async def test_unknown_host_is_a_dns_error(ctx: CheckContext) -> None:
    result = await run_one(ctx, type="tcp", host="db.example.invalid", port=5432)
    assert result.status is Status.ERROR
    assert result.reason == "host db.example.invalid not found (DNS)"


@pytest.mark.parametrize("port", [0, 65536, "postgres"])
def test_bad_port_is_a_config_error(port: object) -> None:
    with pytest.raises(ValidationError) as raised:
        REGISTRY.parse({"type": "tcp", "host": "db", "port": port})
    assert raised.value.errors()[0]["loc"] == ("port",)
