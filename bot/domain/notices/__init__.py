"""What the services tell a release's thread (and channel), as typed values.

A service queues a notice in the transaction that made the change; the sender renders it
when it goes out (`bot/slack/blocks/notices.py`), and its plain words (`phrase()`) are
kept beside it for logs and for anyone reading the outbox. Each notice is stored as JSON
under its `kind` and read back with `decode`.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import Field, TypeAdapter, ValidationError

from bot.domain.notices.monitoring import (
    AlertAnswered,
    AlertLine,
    BreachAlert,
    Deployed,
    Digest,
    DigestBreachLine,
    DigestLine,
    MonitoringComplete,
    PhasePlan,
    Recovered,
)
from bot.domain.notices.reminders import (
    BlockedRelease,
    DailyReminder,
    PendingSigner,
    Reminder,
    Waiting,
    WaitingFor,
)
from bot.domain.notices.signoff import (
    ApprovalSuspended,
    Approved,
    Blocked,
    ChecklistChanged,
    PlanRecorded,
    RefMoved,
    Rejected,
    RejectionWithdrawn,
    ReleaseCancelled,
    Reopened,
    SignatureWithdrawn,
    Signed,
    Signer,
    SignerItems,
    Ticked,
)
from bot.domain.notices.waivers import (
    WaiverAnswered,
    WaiverEndedNotice,
    WaiverRequested,
    WaiverRequestNow,
)

Notice = (
    Signed
    | PlanRecorded
    | SignatureWithdrawn
    | Rejected
    | RejectionWithdrawn
    | Ticked
    | Approved
    | ApprovalSuspended
    | Blocked
    | Reopened
    | RefMoved
    | ChecklistChanged
    | ReleaseCancelled
    | Deployed
    | BreachAlert
    | Recovered
    | AlertAnswered
    | MonitoringComplete
    | Reminder
    | DailyReminder
    | Digest
    | WaiverRequested
    | WaiverAnswered
    | WaiverEndedNotice
)
IN_CHANNEL = frozenset({"digest", "daily_reminder"})  # posted to the channel, not the card's thread

_ADAPTER: TypeAdapter[Notice] = TypeAdapter(Annotated[Notice, Field(discriminator="kind")])


def encode(notice: Notice) -> dict[str, Any]:
    """The notice as JSON (its kind included)."""
    data: dict[str, Any] = _ADAPTER.dump_python(notice, mode="json")
    return data


def decode(kind: str | None, data: dict[str, Any] | None) -> Notice | None:
    """A stored notice; None when the row holds none this version knows (a message queued
    by an older version, sent as its stored text)."""
    if not kind or not isinstance(data, dict):
        return None
    try:
        return _ADAPTER.validate_python({**data, "kind": kind})
    except ValidationError:
        return None


__all__ = [
    "AlertAnswered",
    "AlertLine",
    "ApprovalSuspended",
    "Approved",
    "Blocked",
    "BlockedRelease",
    "BreachAlert",
    "ChecklistChanged",
    "DailyReminder",
    "Deployed",
    "Digest",
    "DigestBreachLine",
    "DigestLine",
    "MonitoringComplete",
    "Notice",
    "PendingSigner",
    "PhasePlan",
    "PlanRecorded",
    "Recovered",
    "RefMoved",
    "Rejected",
    "RejectionWithdrawn",
    "ReleaseCancelled",
    "Reminder",
    "Reopened",
    "SignatureWithdrawn",
    "Signed",
    "Signer",
    "SignerItems",
    "Ticked",
    "Waiting",
    "WaitingFor",
    "WaiverAnswered",
    "WaiverEndedNotice",
    "WaiverRequestNow",
    "WaiverRequested",
    "decode",
    "encode",
]
