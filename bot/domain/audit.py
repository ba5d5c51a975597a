"""The audit log as a hash chain: each event hashes its content and its predecessor's hash,
so an edited, deleted, inserted or reordered event is found by walking the chain."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

GENESIS = "0" * 64  # what the first event follows


@dataclass(frozen=True)
class AuditEvent:
    id: int
    at: datetime
    release_id: int | None
    actor: str | None
    kind: str
    data: dict[str, Any] | None  # None: what is stored is not JSON (edited)
    prev_hash: str
    hash: str


@dataclass(frozen=True)
class ChainReport:
    events: int
    head: str  # the last good event's hash: what an export carries
    problem: str | None = None  # the first bad event, in words

    @property
    def ok(self) -> bool:
        return self.problem is None


def audit_hash(
    prev_hash: str,
    at: datetime,
    release_id: int | None,
    actor: str | None,
    kind: str,
    data: dict[str, Any],
) -> str:
    """SHA-256 over the previous event's hash and this event's content."""
    content = json.dumps(
        {
            "at": at.astimezone(UTC).isoformat(),  # one form, whichever database read it
            "release_id": release_id,
            "actor": actor,
            "kind": kind,
            "data": data,
        },
        sort_keys=True,
        separators=(",", ":"),
        default=str,
    )
    return hashlib.sha256(f"{prev_hash}\n{content}".encode()).hexdigest()


def chain_problem(event: AuditEvent, previous: str) -> str | None:
    """Why EVENT breaks the chain after an event whose hash is PREVIOUS, or None."""
    where = f"audit event {event.id} ({event.kind} at {event.at.isoformat()})"
    if event.data is None:
        return f"{where}: its data is not JSON (edited)"
    if event.prev_hash != previous:
        return (
            f"{where}: does not follow the event before it "
            "(an event was deleted, inserted or reordered)"
        )
    expected = audit_hash(
        event.prev_hash, event.at, event.release_id, event.actor, event.kind, event.data
    )
    if event.hash != expected:
        return f"{where}: its content does not match its hash (edited)"
    return None
