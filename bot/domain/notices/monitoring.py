"""Notices after approval: deployed, alerts and their answers, recovery, phase digests."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from bot.domain.text import (
    Aside,
    Person,
    Phrase,
    Strong,
    joined,
    listed,
    phrase,
)

SHOWN = 5  # items a message names before "and N more"


@dataclass(frozen=True)
class PhasePlan:
    title: str
    every: str  # "10m"


@dataclass(frozen=True)
class Deployed:
    name: str
    by: str  # a Slack user, or the pipeline named through the API
    via_api: bool = False
    phases: tuple[PhasePlan, ...] = ()
    kind: Literal["deployed"] = "deployed"

    def phrase(self) -> Phrase:
        if self.via_api:
            said = phrase(Strong(self.name), f" marked deployed via the API (by {self.by}).")
        else:
            said = phrase(Person(self.by), " marked ", Strong(self.name), " deployed.")
        if not self.phases:
            return said
        plan = joined(f"{p.title} (every {p.every})" for p in self.phases)
        return phrase(said, " Post-deployment monitoring starts: ", plan, ".")


@dataclass(frozen=True)
class AlertLine:
    """One item of a breach: failing (or recovered), and why."""

    title: str
    reason: str
    opened_at: datetime
    failing: bool = True  # False: it could not be checked (an error)
    recovered_at: datetime | None = None


@dataclass(frozen=True)
class BreachAlert:
    """A breach of the post-deploy items, as its one message in the thread shows it:
    posted when the first item fails, edited as others fail or recover, answered once
    with Acknowledge or Roll back."""

    release: int
    message: int
    name: str
    phase: str  # the phase's title
    responders: tuple[str, ...]  # who it calls
    lines: tuple[AlertLine, ...]
    closed_at: datetime | None = None  # every item passes again
    acknowledged_by: str | None = None
    acknowledged_at: datetime | None = None
    rolled_back_by: str | None = None
    rolled_back_at: datetime | None = None
    kind: Literal["alert"] = "alert"

    @property
    def failing(self) -> list[AlertLine]:
        return [line for line in self.lines if line.recovered_at is None]

    def phrase(self) -> Phrase:
        """The headline and the items by title (the notification's words)."""
        if self.closed_at is None and len(self.failing) == 1:
            return self.headline()
        return phrase(self.headline(), ": ", self.summary())

    def headline(self) -> Phrase:
        """What the message says above its lines, which name each item."""
        if self.closed_at is not None:
            return phrase("Every post-deploy item of ", Strong(self.name), " passes again")
        called = joined((Person(u) for u in self.responders), " ")
        failing = self.failing
        if len(failing) == 1:
            (line,) = failing
            verb = "is failing" if line.failing else "could not be checked"
            said = phrase(Strong(line.title), f" {verb} on ", Strong(self.name))
            return phrase(called, " ", said, f" during the {self.phase} phase: {line.reason}")
        return phrase(
            called,
            " ",
            Strong(f"{len(failing)} post-deploy items"),
            " are failing on ",
            Strong(self.name),
            f" during the {self.phase} phase",
        )

    def summary(self) -> Phrase:
        """The items of the breach, by title."""
        return listed([line.title for line in self.lines], SHOWN)


@dataclass(frozen=True)
class Recovered:
    """The breach is over: every post-deploy item passes again (said once)."""

    name: str
    items: tuple[str, ...]  # the breach's items, by title
    kind: Literal["recovered"] = "recovered"

    def phrase(self) -> Phrase:
        # The alert above is edited to show each item recovered; this says it once.
        what = self.items[0] if len(self.items) == 1 else f"{len(self.items)} post-deploy items"
        return phrase(
            Strong(what),
            " recovered on ",
            Strong(self.name),
            ": every post-deploy item passes again.",
        )


@dataclass(frozen=True)
class AlertAnswered:
    user: str
    item: str  # the breach's items, in words
    name: str
    rollback: bool  # False: acknowledged
    plan: str | None = None  # the rollback plan, when rolling back
    kind: Literal["alert_answered"] = "alert_answered"

    def phrase(self) -> Phrase:
        if not self.rollback:
            return phrase(Person(self.user), " acknowledged the alert on ", Strong(self.item), ".")
        plan = self.plan if self.plan else Aside("no rollback plan was recorded")
        return phrase(
            Person(self.user),
            " decided to ",
            Strong("roll back"),
            " ",
            Strong(self.name),
            " (alert on ",
            Strong(self.item),
            "). Rollback plan: ",
            plan,
        )


@dataclass(frozen=True)
class MonitoringComplete:
    name: str
    kind: Literal["monitoring_complete"] = "monitoring_complete"

    def phrase(self) -> Phrase:
        return phrase("Post-deployment monitoring of ", Strong(self.name), " is complete.")


@dataclass(frozen=True)
class DigestLine:
    id: str
    title: str
    manual: bool
    runs: int
    passed: int
    worst: str | None = None
    last_status: str | None = None
    last_reason: str | None = None

    @property
    def healthy(self) -> bool:
        return self.runs > 0 and self.passed == self.runs


@dataclass(frozen=True)
class DigestBreachLine:
    item: str  # the item's title
    opened_at: datetime
    reason: str
    recovered_at: datetime | None = None
    acknowledged_by: str | None = None
    rolled_back_by: str | None = None


@dataclass(frozen=True)
class Digest:
    """A phase's digest, posted to the channel when the phase ends."""

    release: int
    name: str
    phase: str  # the phase's id
    title: str  # the phase's title
    start: datetime
    end: datetime
    late: bool
    next: str | None  # the next phase's title
    items: tuple[DigestLine, ...]
    breaches: tuple[DigestBreachLine, ...]
    kind: Literal["digest"] = "digest"

    @property
    def healthy_items(self) -> int:
        return sum(1 for i in self.items if i.healthy)

    def phrase(self) -> Phrase:
        late = " (late)" if self.late else ""
        return phrase(
            f"{self.title} digest{late} — {self.name}: "
            f"{self.healthy_items}/{len(self.items)} post-deploy items passed every run, "
            f"{len(self.breaches)} breach(es)"
        )
