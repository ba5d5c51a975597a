"""Waivers: a failing item counted as passing, for one release, for a while, with a reason.

Someone holding a role asks (`requested`); a member of a `waivers.approvers` role who is
not the requester grants or denies it. A granted waiver is in force until it expires, its
grantor withdraws it, or the release's ref changes; then the item counts by its latest
result again.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import ClassVar

from pydantic import BaseModel, ConfigDict, Field

from bot.domain.text import Moment, Person, Phrase, phrase
from checks.durations import Duration

DEFAULT_MAX = timedelta(days=30)


class WaiverSettings(BaseModel):
    """app.yaml `waivers`: who may grant one (default: the final role), for how long."""

    model_config = ConfigDict(extra="forbid")

    approvers: list[str] | None = None
    max: Duration = Field(default=DEFAULT_MAX)


class WaiverState(StrEnum):
    REQUESTED = "requested"
    GRANTED = "granted"  # in force until it expires (recorded as `expired` once seen)
    DENIED = "denied"
    WITHDRAWN = "withdrawn"  # by its grantor
    EXPIRED = "expired"
    REF_CHANGED = "ref_changed"  # the release moved to another ref: asked or granted on the old

    @property
    def open(self) -> bool:
        """Still asked for, or granted: the item can't be asked for again meanwhile."""
        return self in (WaiverState.REQUESTED, WaiverState.GRANTED)


ENDINGS = frozenset({WaiverState.WITHDRAWN, WaiverState.EXPIRED, WaiverState.REF_CHANGED})


@dataclass(frozen=True)
class Waiver:
    id: int
    item_id: str
    requested_by: str
    reason: str
    duration: timedelta
    requested_at: datetime
    ref: str | None  # the release's ref when it was asked for
    state: WaiverState = WaiverState.REQUESTED
    decided_by: str | None = None  # who granted or denied it
    decided_at: datetime | None = None
    denial: str | None = None  # why it was denied
    expires_at: datetime | None = None  # once granted
    ended_at: datetime | None = None  # withdrawn, expired, or the ref changed
    ended_by: str | None = None  # who withdrew it
    item_title: str = ""

    def in_force(self, now: datetime | None, ref: str | None) -> bool:
        """Counting at NOW, on REF: granted by then, not yet ended or expired, on the ref it
        was asked for on (NOW None: granted and not ended, expiry not looked at)."""
        if not self.granted or ref != self.ref:
            return False
        if now is None:
            return self.state is WaiverState.GRANTED
        if self.decided_at is not None and now < self.decided_at:
            return False
        if self.ended_at is not None and now >= self.ended_at:
            return False
        return self.expires_at is None or now < self.expires_at

    def ending(self, now: datetime | None, ref: str | None) -> WaiverState | None:
        """How a granted waiver ended, though not yet recorded (None: it has not)."""
        if self.state is not WaiverState.GRANTED:
            return self.state if self.state in ENDINGS else None
        if ref != self.ref:
            return WaiverState.REF_CHANGED
        if now is not None and self.expires_at is not None and now >= self.expires_at:
            return WaiverState.EXPIRED
        return None

    @property
    def granted(self) -> bool:
        """It was granted at some point (it may have ended since)."""
        return self.state is WaiverState.GRANTED or self.state in ENDINGS


def in_force(waivers: Iterable[Waiver], now: datetime | None, ref: str | None) -> dict[str, Waiver]:
    """The waivers in force, by item id."""
    return {w.item_id: w for w in waivers if w.in_force(now, ref)}


@dataclass(frozen=True)
class WaiverEnded:
    """A reason the gate is closed: a blocking item fails again since its waiver ended."""

    item_id: str
    title: str
    how: WaiverState  # expired, withdrawn, ref_changed
    at: datetime | None
    kind: ClassVar[str] = "waiver_ended"

    def phrase(self) -> Phrase:
        said = {
            WaiverState.EXPIRED: "expired",
            WaiverState.WITHDRAWN: "was withdrawn",
            WaiverState.REF_CHANGED: "ended when the ref changed",
        }[self.how]
        when = (" ", Moment(self.at)) if self.at is not None else ()
        return phrase(f"the waiver of {self.title} {said}", *when)


def ended_on(
    waivers: Sequence[Waiver],
    failing: Mapping[str, str],
    now: datetime | None,
    ref: str | None,
) -> list[WaiverEnded]:
    """For each failing item (id -> title) whose latest granted waiver ended: how and when."""
    latest: dict[str, Waiver] = {}
    for waiver in waivers:  # oldest first: the last granted one of each item wins
        if waiver.granted and waiver.item_id in failing:
            latest[waiver.item_id] = waiver
    ended = []
    for item_id, waiver in latest.items():
        how = waiver.ending(now, ref)
        if how is None:
            continue
        at = waiver.expires_at if how is WaiverState.EXPIRED else waiver.ended_at
        ended.append(WaiverEnded(item_id, failing[item_id], how, at))
    return ended


def describe(waiver: Waiver) -> Phrase:
    """Waived by whom, until when, why: how every surface says a waiver in force."""
    return phrase(
        "waived by ",
        Person(waiver.decided_by or ""),
        " until ",
        Moment(waiver.expires_at) if waiver.expires_at else "",
        f": {waiver.reason}",
    )
