"""The sign-off's records as plain values."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any


class ReleaseState(StrEnum):
    OPEN = "open"
    BLOCKED = "blocked"
    APPROVED = "approved"
    SUSPENDED = "suspended"
    DEPLOYED = "deployed"
    MONITORING = "monitoring"
    DONE = "done"
    CANCELLED = "cancelled"

    @property
    def active(self) -> bool:
        """Before deployment and not cancelled: the sign-off is still in play."""
        return self in PRE_DEPLOY


PRE_DEPLOY = frozenset(
    {ReleaseState.OPEN, ReleaseState.BLOCKED, ReleaseState.APPROVED, ReleaseState.SUSPENDED}
)
SHIPPED = frozenset({ReleaseState.DEPLOYED, ReleaseState.MONITORING, ReleaseState.DONE})


class ItemStatus(StrEnum):
    PASS = "pass"  # noqa: S105 - a status, not a password
    FAIL = "fail"
    ERROR = "error"
    PENDING = "pending"  # automated: no result yet; manual: not ticked


@dataclass(frozen=True)
class Release:
    id: int
    name: str
    channel: str
    state: ReleaseState
    created_by: str
    created_at: datetime
    ref: str | None = None
    product: str = ""  # the product's id: whose checklist, roles and channel
    card_ts: str | None = None
    approved_at: datetime | None = None
    closed_by: str | None = None
    # Section 10, the deployment authorization (the window may be planned at opening).
    window_start: datetime | None = None
    window_end: datetime | None = None
    deploy_team: tuple[str, ...] = ()
    rollback_plan: str | None = None
    deployed_at: datetime | None = None
    deployed_by: str | None = None


@dataclass(frozen=True)
class Signature:
    id: int
    role_id: str
    user_id: str
    signed_at: datetime
    attestations: tuple[str, ...] = ()
    comment: str | None = None
    evidence: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Rejection:
    id: int
    user_id: str
    reason: str
    created_at: datetime
    withdrawn_at: datetime | None = None  # by its own author (a withdrawn one no longer counts)


@dataclass(frozen=True)
class LatestResult:
    """The newest check result of an automated item."""

    item_id: str
    status: ItemStatus
    reason: str
    at: datetime
    duration_ms: float = 0.0
    changed_at: datetime | None = None  # since when the item has had this status
    url: str | None = None  # where the result came from (a CI run pushed through the API)


@dataclass(frozen=True)
class Tick:
    """A manual item ticked by a person."""

    item_id: str
    user_id: str
    at: datetime


@dataclass(frozen=True)
class CheckRunProgress:
    total: int
    done: int
    finished: bool
