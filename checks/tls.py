"""`tls`: a certificate that verifies and stays valid for at least `min_days`."""

from __future__ import annotations

import asyncio
import math
import ssl
from datetime import UTC, datetime
from typing import Any, Literal

from pydantic import Field

from checks.base import CheckContext, CheckParams, CheckType, Outcome
from checks.tcp import describe_connect_error

_EXPIRED = 10  # X509_V_ERR_CERT_HAS_EXPIRED


class TlsParams(CheckParams):
    type: Literal["tls"] = "tls"
    host: str = Field(min_length=1)
    port: int = Field(default=443, ge=1, le=65535)
    min_days: int = Field(default=14, ge=0)
    server_name: str | None = Field(default=None, min_length=1)
    ca_file: str | None = Field(default=None, min_length=1)  # trust only this CA bundle


def trust(ca_file: str | None) -> ssl.SSLContext:
    """A verifying client context: the system's trust store, or only the CAs in ca_file."""
    return ssl.create_default_context(cafile=ca_file)


def _name(cert: dict[str, Any], field: str) -> str | None:
    """The name a person knows a certificate by: its CN, else its organisational unit or name."""
    parts = {key: str(value) for rdn in cert.get(field, ()) for key, value in rdn}
    return (
        parts.get("commonName")
        or parts.get("organizationalUnitName")
        or parts.get("organizationName")
    )


async def run(params: TlsParams, ctx: CheckContext) -> Outcome:
    name = params.server_name or params.host
    try:
        context = await asyncio.to_thread(trust, params.ca_file)
    except OSError as exc:
        return Outcome.errored(f"cannot read ca_file {params.ca_file}: {exc.strerror or exc}")
    try:
        _, writer = await asyncio.open_connection(
            params.host, params.port, ssl=context, server_hostname=name
        )
    except ssl.SSLCertVerificationError as exc:
        if exc.verify_code == _EXPIRED:
            return Outcome.failed(f"certificate for {name} has expired")
        return Outcome.errored(f"certificate for {name} did not verify: {exc.verify_message}")
    except ssl.SSLError as exc:
        return Outcome.errored(f"TLS handshake with {name} failed: {exc.reason or exc}")
    except OSError as exc:
        return Outcome.errored(describe_connect_error(params.host, params.port, exc))
    cert = writer.get_extra_info("peercert") or {}
    writer.close()
    try:
        await writer.wait_closed()
    except OSError:
        pass  # the certificate is what we came for
    not_after = datetime.fromtimestamp(ssl.cert_time_to_seconds(cert["notAfter"]), UTC)
    left = (not_after - datetime.now(UTC)).total_seconds() / 86400
    days = math.floor(left)
    values = {
        "days_left": days,
        "not_after": not_after.isoformat(),
        "subject": _name(cert, "subject"),
        "issuer": _name(cert, "issuer"),
    }
    until = not_after.date().isoformat()
    plural = "day" if days == 1 else "days"
    if left < params.min_days:
        return Outcome.failed(
            f"certificate for {name} expires in {days} {plural} ({until}), needs {params.min_days}",
            **values,
        )
    return Outcome.passed(
        f"certificate for {name} valid for {days} more {plural} (until {until})", **values
    )


CHECK = CheckType("tls", TlsParams, run)
