"""tls: a real asyncio TLS server with trustme certificates of chosen lifetimes."""

from __future__ import annotations

import asyncio
import re
import ssl
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import trustme
from pydantic import ValidationError
from standins import REGISTRY, run_one

from checks import CheckContext, CheckResult, Status


@pytest.fixture(scope="module")
def ca() -> trustme.CA:
    return trustme.CA()


@pytest.fixture
def ca_file(ca: trustme.CA, tmp_path: Path) -> str:
    path = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(path))
    return str(path)


def leaf(ca: trustme.CA, valid_for: timedelta) -> trustme.LeafCert:
    now = datetime.now(UTC)
    return ca.issue_cert(
        "localhost",
        "127.0.0.1",
        common_name="localhost",
        not_before=min(now, now + valid_for) - timedelta(days=30),
        not_after=now + valid_for,
    )


@asynccontextmanager
async def tls_server(cert: trustme.LeafCert | None) -> AsyncIterator[int]:
    """A TLS server on 127.0.0.1 (plain TCP that answers HTTP when cert is None)."""
    context = None
    if cert is not None:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        cert.configure_cert(context)

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if cert is None:
            writer.write(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n")
        writer.close()
        try:
            await writer.wait_closed()
        except OSError:
            pass

    server = await asyncio.start_server(handle, "127.0.0.1", 0, ssl=context)
    async with server:
        yield server.sockets[0].getsockname()[1]


async def check_served(ctx: CheckContext, cert: trustme.LeafCert, **raw: object) -> CheckResult:
    """The tls check, with RAW's parameters, of a server on 127.0.0.1 presenting CERT."""
    async with tls_server(cert) as port:
        return await run_one(ctx, type="tls", port=port, **raw)


async def test_long_lived_certificate_passes(
    ca: trustme.CA, ca_file: str, ctx: CheckContext
) -> None:
    cert = leaf(ca, timedelta(days=90, hours=1))
    result = await check_served(ctx, cert, host="localhost", min_days=30, ca_file=ca_file)
    assert result.status is Status.PASS, result.reason
    until = (datetime.now(UTC) + timedelta(days=90, hours=1)).date().isoformat()
    assert result.reason == f"certificate for localhost valid for 90 more days (until {until})"
    assert result.values["days_left"] == 90
    assert result.values["subject"] == "localhost"
    assert result.values["issuer"] and result.values["issuer"].startswith("Testing CA")
    assert result.values["not_after"].startswith(until)


async def test_certificate_expiring_soon_fails(
    ca: trustme.CA, ca_file: str, ctx: CheckContext
) -> None:
    cert = leaf(ca, timedelta(days=2, hours=1))
    # the IP address to connect to, the name to verify and send as SNI
    result = await check_served(
        ctx, cert, host="127.0.0.1", server_name="localhost", ca_file=ca_file
    )
    assert result.status is Status.FAIL
    until = (datetime.now(UTC) + timedelta(days=2, hours=1)).date().isoformat()
    assert result.reason == f"certificate for localhost expires in 2 days ({until}), needs 14"
    assert result.values["days_left"] == 2


async def test_expired_certificate_fails(ca: trustme.CA, ca_file: str, ctx: CheckContext) -> None:
    cert = leaf(ca, timedelta(days=-1))
    result = await check_served(ctx, cert, host="localhost", ca_file=ca_file)
    assert result.status is Status.FAIL
    assert result.reason == "certificate for localhost has expired"


async def test_untrusted_or_mismatched_certificate_is_an_error(
    ca: trustme.CA, ca_file: str, ctx: CheckContext, tmp_path: Path
) -> None:
    other = tmp_path / "other-ca.pem"
    trustme.CA().cert_pem.write_to_path(str(other))
    cert = leaf(ca, timedelta(days=90))
    async with tls_server(cert) as port:
        untrusted = await run_one(ctx, type="tls", host="localhost", port=port, ca_file=str(other))
        # the system trust store knows nothing of a test CA either
        system = await run_one(ctx, type="tls", host="localhost", port=port)
        mismatch = await run_one(
            ctx,
            type="tls",
            host="127.0.0.1",
            port=port,
            server_name="shop.example.com",
            ca_file=ca_file,
        )
    assert untrusted.status is Status.ERROR
    assert untrusted.reason == (
        "certificate for localhost did not verify: unable to get local issuer certificate"
    )
    assert system.status is Status.ERROR and "did not verify" in system.reason
    assert mismatch.status is Status.ERROR
    assert re.match(
        r"certificate for shop\.example\.com did not verify: Hostname mismatch", mismatch.reason
    )


async def test_plain_tcp_port_and_closed_port_are_errors(ctx: CheckContext) -> None:
    async with tls_server(None) as port:
        plain = await run_one(ctx, type="tls", host="127.0.0.1", port=port)
    assert plain.status is Status.ERROR
    assert plain.reason.startswith("TLS handshake with 127.0.0.1 failed: ")
    closed = await run_one(ctx, type="tls", host="127.0.0.1", port=port)
    assert closed.reason == f"connection to 127.0.0.1:{port} refused"


async def test_missing_ca_file_is_an_error(ctx: CheckContext, tmp_path: Path) -> None:
    missing = tmp_path / "nope.pem"
    result = await run_one(ctx, type="tls", host="localhost", ca_file=str(missing))
    assert result.status is Status.ERROR
    assert result.reason == f"cannot read ca_file {missing}: No such file or directory"


def test_defaults_and_bad_parameters() -> None:
    parsed = REGISTRY.parse({"type": "tls", "host": "shop.example.com"})
    assert (parsed.port, parsed.min_days, parsed.server_name) == (443, 14, None)  # type: ignore[attr-defined]
    with pytest.raises(ValidationError) as raised:
        REGISTRY.parse({"type": "tls", "host": "shop.example.com", "min_days": -1})
    assert raised.value.errors()[0]["loc"] == ("min_days",)
    with pytest.raises(ValidationError) as raised:
        REGISTRY.parse({"type": "tls", "host": "shop.example.com", "days": 30})
    assert raised.value.errors()[0]["loc"] == ("days",)
