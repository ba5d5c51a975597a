"""Reminders: who still has to sign, daily and as a planned window nears."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from bot.domain.text import (
    Group,
    Moment,
    Part,
    Person,
    Phrase,
    Strong,
    joined,
    phrase,
)


@dataclass(frozen=True)
class PendingSigner:
    """A role still to sign, and who may sign it now."""

    role: str  # its title
    missing: int  # signatures still needed
    members: tuple[str, ...]
    usergroups: tuple[str, ...]
    waiting: bool  # the final approval, which comes after the others


def _pending(pending: tuple[PendingSigner, ...]) -> Phrase:
    """`*Security Lead* @U1, …; then the final approval by *CTO*`: only those who can act
    now are mentioned."""

    def one(p: PendingSigner, mention: bool) -> Phrase:
        need = f" ({p.missing} more signatures)" if p.missing > 1 else ""
        who: list[Part] = [*(Person(u) for u in p.members), *(Group(g) for g in p.usergroups)]
        called = phrase(" ", joined(who, " ")) if mention and who else phrase()
        return phrase(Strong(p.role), need, called)

    now = joined(one(p, True) for p in pending if not p.waiting)
    later = joined(one(p, False) for p in pending if p.waiting)
    if not later:
        return now
    return phrase(now, "; then the final approval by ", later) if now else later


@dataclass(frozen=True)
class FreezeAhead:
    """A change freeze that overlaps a release's planned deployment window."""

    title: str
    start: datetime
    end: datetime


@dataclass(frozen=True)
class Reminder:
    """Who still has to sign a release: daily, and once as its planned window nears."""

    name: str
    pending: tuple[PendingSigner, ...]
    readiness: int
    failing: int  # blocking items not passing
    rejected_by: tuple[str, ...] = ()
    window_start: datetime | None = None  # set: the planned window starts soon
    freezes: tuple[FreezeAhead, ...] = ()  # overlapping the planned window
    kind: Literal["reminder"] = "reminder"

    def phrase(self) -> Phrase:
        if self.window_start is None:
            opening = phrase(Strong(self.name), ":")
        else:
            opening = phrase(
                "The deployment window of ",
                Strong(self.name),
                " starts ",
                Moment(self.window_start),
                ";",
            )
        status = [phrase(f"Readiness {self.readiness}%")]
        if self.failing:
            status.append(phrase(f"{self.failing} blocking item(s) not passing"))
        if self.rejected_by:
            who = joined(Person(u) for u in self.rejected_by)
            status.append(phrase("blocked until ", who, " withdraw(s) the rejection"))
        said = phrase(
            opening, " still pending: ", _pending(self.pending), ".\n", joined(status, " · "), "."
        )
        for freeze in self.freezes:
            said += phrase(
                f"\nThe change freeze {freeze.title} (",
                Moment(freeze.start),
                " – ",
                Moment(freeze.end),
                ") overlaps the planned window: no deploy then without an exception.",
            )
        return said


@dataclass(frozen=True)
class Waiting:
    """A release waiting for someone's signature, and where its card is."""

    name: str
    role: str  # the role's title they would sign as
    channel: str
    card_ts: str | None = None
    readiness: int = 0


@dataclass(frozen=True)
class WaitingFor:
    """Everything waiting for one person (or one user group) to sign."""

    releases: tuple[Waiting, ...]
    user: str | None = None
    usergroup: str | None = None

    def who(self) -> Part:
        return Person(self.user) if self.user else Group(self.usergroup or "")


@dataclass(frozen=True)
class BlockedRelease:
    name: str
    rejected_by: tuple[str, ...]
    channel: str
    card_ts: str | None = None


@dataclass(frozen=True)
class FreezeOverlap:
    """A change freeze that overlaps the planned window of a release the daily reminder
    lists."""

    name: str  # the release's
    title: str  # the freeze's
    start: datetime
    end: datetime

    def phrase(self) -> Phrase:
        return phrase(
            f"{self.title} (from ",
            Moment(self.start),
            " until ",
            Moment(self.end),
            ") overlaps the planned window of ",
            Strong(self.name),
        )


@dataclass(frozen=True)
class DailyReminder:
    """The day's one reminder in a release channel: for each person, the releases
    waiting for their signature; the releases blocked by a rejection, and by whom; the
    change freezes overlapping a listed release's planned window."""

    people: tuple[WaitingFor, ...]
    blocked: tuple[BlockedRelease, ...] = ()
    freezes: tuple[FreezeOverlap, ...] = ()  # (rows queued by older versions have none)
    kind: Literal["daily_reminder"] = "daily_reminder"

    @property
    def releases(self) -> int:
        names = {w.name for p in self.people for w in p.releases} | {b.name for b in self.blocked}
        return len(names)

    def phrase(self) -> Phrase:
        lines = [phrase(f"Sign-offs waiting ({self.releases} releases):")]
        for person in self.people:
            waiting = joined(phrase(Strong(w.name), f" as {w.role}") for w in person.releases)
            lines.append(phrase(person.who(), ": ", waiting))
        for blocked in self.blocked:
            rejecters = joined(Person(u) for u in blocked.rejected_by)
            lines.append(phrase(Strong(blocked.name), " is blocked by ", rejecters))
        lines.extend(freeze.phrase() for freeze in self.freezes)
        return joined(lines, "\n")
