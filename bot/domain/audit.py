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
class Checkpoint:
    """A head verification walked up to: event EVENT_ID, the COUNT-th, had HASH."""

    event_id: int
    hash: str
    count: int
    verified_at: datetime


@dataclass(frozen=True)
class ChainReport:
    events: int
    head: str  # the last good event's hash: what an export carries
    problem: str | None = None  # the first bad event, in words
    full: bool = True  # walked from the first event; False: on from a checkpoint
    checked: int = 0  # events walked this time (those before `since` were, earlier)
    since: Checkpoint | None = None  # the checkpoint an incremental walk started from

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


def checkpoint_problem(checkpoint: Checkpoint, stored: str | None, count: int | None) -> str | None:
    """Why the log no longer matches CHECKPOINT, whose event now has hash STORED (None: it
    is gone) and is the COUNT-th event (None: not counted), or None."""
    verified = f"verified {checkpoint.verified_at.astimezone(UTC).isoformat()}"
    where = f"audit event {checkpoint.event_id}"
    if stored is None:
        return f"{where}, {verified}, is no longer in the log (deleted, or the checkpoint edited)"
    if stored != checkpoint.hash:
        return (
            f"{where}: its hash is not the one {verified} (the log was rewritten from there, "
            "or the checkpoint edited)"
        )
    if count is not None and count != checkpoint.count:
        return (
            f"{where}: {count} events lead to it, {checkpoint.count} when {verified} "
            "(an event before it was deleted or inserted, or the checkpoint edited)"
        )
    return None
