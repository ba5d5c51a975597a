"""GitHubDriver: GitHub delivering an app's webhooks, signed as GitHub signs them.

Each delivery is JSON with `X-GitHub-Event`, a fresh `X-GitHub-Delivery` GUID (pass the
same one again, or call `redeliver`, to send it twice as a manual redelivery does),
`X-Hub-Signature-256` (and the legacy `X-Hub-Signature`) and GitHub's User-Agent.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal
from urllib.parse import urlsplit

import httpx

from bot.fake_github import payloads

EVENTS_PATH = "/github/events"
Forgery = Literal["missing", "wrong-secret", "tampered", "sha1-only", "malformed"]


@dataclass(frozen=True)
class Delivery:
    """One webhook sent: what went and what the app answered."""

    event: str
    delivery_id: str
    body: bytes
    headers: dict[str, str]
    status: int


class GitHubDriver:
    """Posts webhooks to the app: `url` is its webhook URL (a bare `http://host:port` gets
    `/github/events`), `secret` the webhook secret it was configured with."""

    def __init__(
        self,
        url: str,
        secret: str,
        *,
        app_id: int | None = None,
        client: httpx.Client | None = None,
    ) -> None:
        self.url = url.rstrip("/") + EVENTS_PATH if urlsplit(url).path in ("", "/") else url
        self.secret, self.app_id = secret, app_id
        self.http = client or httpx.Client(timeout=10.0)
        self.deliveries: list[Delivery] = []

    def close(self) -> None:
        self.http.close()

    def __enter__(self) -> GitHubDriver:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    @property
    def last_delivery_id(self) -> str:
        return self.deliveries[-1].delivery_id if self.deliveries else ""

    def deliver(
        self,
        event: str,
        payload: Mapping[str, Any],
        delivery_id: str | None = None,
        secret: str | None = None,
    ) -> httpx.Response:
        """Deliver `payload` as event `event`, signed with `secret` (the driver's unless given)."""
        body = payloads.encode(payload)
        return self._send(event, body, delivery_id, self.secret if secret is None else secret)

    def redeliver(self, delivery_id: str | None = None) -> httpx.Response:
        """Send a past delivery again, the same bytes and GUID (the last one unless given)."""
        sent = [d for d in self.deliveries if delivery_id in (None, d.delivery_id)]
        if not sent:
            raise AssertionError(f"no delivery {delivery_id!r} to redeliver")
        return self._send(sent[-1].event, sent[-1].body, sent[-1].delivery_id, self.secret)

    def forged(
        self,
        event: str,
        payload: Mapping[str, Any],
        how: Forgery = "wrong-secret",
        delivery_id: str | None = None,
    ) -> httpx.Response:
        """A delivery the app must refuse: no signature, one made with another secret, a body
        changed after signing, only the legacy SHA-1 signature, or a signature that is not
        `sha256=<hex>`."""
        body = payloads.encode(payload)
        guid = delivery_id or str(uuid.uuid4())
        if how == "wrong-secret":
            return self._send(event, body, guid, self.secret + "-not-it")
        headers = payloads.headers(event, guid, body, self.secret, app_id=self.app_id)
        if how == "missing":
            headers.pop("X-Hub-Signature-256")
            headers.pop("X-Hub-Signature")
        elif how == "tampered":
            body = body.replace(b"{", b'{"tampered":true,', 1)
        elif how == "sha1-only":
            headers.pop("X-Hub-Signature-256")
        elif how == "malformed":
            headers["X-Hub-Signature-256"] = headers["X-Hub-Signature-256"].removeprefix("sha256=")
        return self._post(event, guid, body, headers)

    def raw(self, body: bytes, headers: Mapping[str, str] | None = None) -> httpx.Response:
        """POST exactly these bytes and headers (nothing added, nothing signed)."""
        return self.http.post(self.url, content=body, headers=dict(headers or {}))

    def _send(
        self, event: str, body: bytes, delivery_id: str | None, secret: str
    ) -> httpx.Response:
        guid = delivery_id or str(uuid.uuid4())
        headers = payloads.headers(event, guid, body, secret, app_id=self.app_id)
        return self._post(event, guid, body, headers)

    def _post(self, event: str, guid: str, body: bytes, headers: dict[str, str]) -> httpx.Response:
        answer = self.http.post(self.url, content=body, headers=headers)
        self.deliveries.append(Delivery(event, guid, body, headers, answer.status_code))
        return answer
