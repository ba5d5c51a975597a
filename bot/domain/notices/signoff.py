"""Notices of the sign-off: signatures, rejections, ticks, the release's state and ref."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from bot.domain.text import (
    Code,
    Moment,
    Person,
    Phrase,
    Quote,
    Strong,
    joined,
    listed,
    phrase,
)

SHOWN = 5  # items a thread message names before "and N more"


def _quoted(titles: tuple[str, ...]) -> Phrase:
    return listed([f"“{t}”" for t in titles], SHOWN)


@dataclass(frozen=True)
class Signer:
    """Someone's signature as a role (a stale one, to be given again)."""

    user: str
    role: str  # the role's title


def _signers(signers: tuple[Signer, ...]) -> Phrase:
    return joined(phrase(Person(s.user), f" ({s.role})") for s in signers)


@dataclass(frozen=True)
class Signed:
    user: str
    role: str
    comment: str | None = None
    kind: Literal["signed"] = "signed"

    def phrase(self) -> Phrase:
        quote = (Quote(self.comment),) if self.comment else ()
        return phrase(Person(self.user), " signed as ", Strong(self.role), ".", *quote)


@dataclass(frozen=True)
class PlanRecorded:
    """What the final approval recorded of section 10 (the card shows the whole plan)."""

    window_start: datetime | None
    window_end: datetime | None
    team: tuple[str, ...]
    kind: Literal["plan_recorded"] = "plan_recorded"

    def phrase(self) -> Phrase:
        parts = []
        if self.window_start and self.window_end:
            parts.append(
                phrase(
                    "Deployment window: ", Moment(self.window_start), " – ", Moment(self.window_end)
                )
            )
        if self.team:
            parts.append(phrase("team: ", joined(Person(u) for u in self.team)))
        return phrase(joined(parts, " · "), ".")


@dataclass(frozen=True)
class SignatureWithdrawn:
    user: str
    role: str
    kind: Literal["signature_withdrawn"] = "signature_withdrawn"

    def phrase(self) -> Phrase:
        return phrase(Person(self.user), " withdrew their signature as ", Strong(self.role), ".")


@dataclass(frozen=True)
class Rejected:
    user: str
    name: str
    reason: str
    withdrawn: str | None = None  # the role they had signed as: that signature is withdrawn
    kind: Literal["rejected"] = "rejected"

    def phrase(self) -> Phrase:
        said = phrase(Person(self.user), " rejected ", Strong(self.name), ":", Quote(self.reason))
        if self.withdrawn is None:
            return said
        return phrase(said, "\n", f"Their signature as {self.withdrawn} is withdrawn.")


@dataclass(frozen=True)
class RejectionWithdrawn:
    user: str
    kind: Literal["rejection_withdrawn"] = "rejection_withdrawn"

    def phrase(self) -> Phrase:
        return phrase(Person(self.user), " withdrew their rejection.")


@dataclass(frozen=True)
class Ticked:
    user: str
    ticked: tuple[str, ...]  # item titles
    unticked: tuple[str, ...]
    kind: Literal["ticked"] = "ticked"

    def phrase(self) -> Phrase:
        parts = []
        if self.ticked:
            parts.append(phrase("ticked ", joined(f"“{t}”" for t in self.ticked)))
        if self.unticked:
            parts.append(phrase("unticked ", joined(f"“{t}”" for t in self.unticked)))
        return phrase(Person(self.user), " ", joined(parts, "; "), ".")


@dataclass(frozen=True)
class Approved:
    name: str
    restored: bool = False  # approved again after a suspension
    kind: Literal["approved"] = "approved"

    def phrase(self) -> Phrase:
        if self.restored:
            return phrase(
                Strong(self.name), ": every blocking item passes again, the approval is restored."
            )
        return phrase(Strong(self.name), " is ", Strong("approved for production deployment"), ".")


@dataclass(frozen=True)
class SignerItems:
    """A signer, and the items they signed on passing that no longer pass."""

    user: str
    items: tuple[str, ...]


@dataclass(frozen=True)
class ApprovalSuspended:
    name: str
    items: tuple[str, ...]  # titles of the blocking items not passing
    signers: tuple[SignerItems, ...] = ()
    kind: Literal["suspended"] = "suspended"

    def phrase(self) -> Phrase:
        lines = [
            phrase(
                Strong(self.name),
                "'s approval is ",
                Strong("suspended"),
                " until every blocking item passes again: ",
                _quoted(self.items),
                " no longer passing. The deployment gate is closed.",
            )
        ]
        for signer in self.signers:
            verb = " no longer passes." if len(signer.items) == 1 else " no longer pass."
            lines.append(
                phrase(Person(signer.user), ": since you signed, ", _quoted(signer.items), verb)
            )
        return joined(lines, "\n")


@dataclass(frozen=True)
class Blocked:
    name: str
    kind: Literal["blocked"] = "blocked"

    def phrase(self) -> Phrase:
        return phrase(
            Strong(self.name), " is ", Strong("blocked"), " until the rejection is withdrawn."
        )


@dataclass(frozen=True)
class Reopened:
    name: str
    kind: Literal["reopened"] = "reopened"

    def phrase(self) -> Phrase:
        return phrase(Strong(self.name), " is open for sign-off again.")


@dataclass(frozen=True)
class RefMoved:
    user: str
    name: str
    ref: str
    old: str | None
    stale: tuple[Signer, ...] = ()
    kind: Literal["ref_moved"] = "ref_moved"

    def phrase(self) -> Phrase:
        was = phrase(" (was ", Code(self.old), ")") if self.old else phrase(" (it had none)")
        said = phrase(
            Person(self.user),
            " moved ",
            Strong(self.name),
            " to ref ",
            Code(self.ref),
            was,
            "; the checks run again.",
        )
        if not self.stale:
            return said
        given = "on the old ref" if self.old else "before it had a ref"
        return phrase(
            said,
            f"\nThese signatures were given {given} and must be given again: ",
            _signers(self.stale),
        )


@dataclass(frozen=True)
class ChecklistChanged:
    version: str
    stale: tuple[Signer, ...]
    kind: Literal["checklist_changed"] = "checklist_changed"

    def phrase(self) -> Phrase:
        return phrase(
            "The checklist changed (version ",
            Code(self.version),
            "); these signatures were given on the previous one and must be given again: ",
            _signers(self.stale),
        )


@dataclass(frozen=True)
class ReleaseCancelled:
    user: str
    name: str
    kind: Literal["cancelled"] = "cancelled"

    def phrase(self) -> Phrase:
        return phrase(Person(self.user), " cancelled ", Strong(self.name), ".")
