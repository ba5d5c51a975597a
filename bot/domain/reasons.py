"""Why a release is not authorized, and what authorization requires, as values.

Each reason and condition names its kind and what it involves (the roles, the items, the
people, the times), and says itself as a phrase. The surfaces render it: Slack with live
mentions, the API as plain strings plus `reasons_detail`, the export in Markdown.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import ClassVar, Literal

from bot.domain.freezes import ChangeFreeze
from bot.domain.text import Code, Person, Phrase, listed, phrase
from bot.domain.waivers import WaiverEnded

SHOWN_ITEMS = 10  # items a reason names before "and N more"


@dataclass(frozen=True)
class ItemRef:
    id: str
    title: str


@dataclass(frozen=True)
class RoleRef:
    id: str
    title: str


@dataclass(frozen=True)
class Staleness:
    """Why a signature no longer counts: `ref` (the release moved from OLD to NEW), `config`
    (the checklist changed since), `role` (its role is gone from the checklist), `waiver`
    (a waiver of the item titled NEW was granted after it was given)."""

    cause: Literal["ref", "config", "role", "waiver"]
    old: str | None = None
    new: str | None = None

    def phrase(self) -> Phrase:
        if self.cause == "ref":
            if self.old is None:
                return phrase("the ref was set to ", Code(self.new or ""), " after it was given")
            if self.new is None:
                return phrase("the ref ", Code(self.old), " it was given on was cleared")
            return phrase("the ref changed from ", Code(self.old), " to ", Code(self.new))
        if self.cause == "config":
            return phrase("the checklist changed since it was given")
        if self.cause == "waiver":
            return phrase(f"{self.new} was waived after it was given")
        return phrase("its role is no longer in the checklist")


@dataclass(frozen=True)
class Cancelled:
    kind: ClassVar[str] = "cancelled"

    def phrase(self) -> Phrase:
        return phrase("cancelled")


@dataclass(frozen=True)
class Suspended:
    kind: ClassVar[str] = "suspended"

    def phrase(self) -> Phrase:
        return phrase("suspended: a blocking item regressed after approval")


@dataclass(frozen=True)
class WaitingFor:
    """Roles (other than the final one) still without their signatures."""

    roles: tuple[RoleRef, ...]
    kind: ClassVar[str] = "waiting_for"

    def phrase(self) -> Phrase:
        return phrase("waiting for ", listed([r.title for r in self.roles], len(self.roles)))


@dataclass(frozen=True)
class BlockingItems:
    """Blocking items not passing (failing, erroring, or not yet checked or ticked)."""

    items: tuple[ItemRef, ...]
    kind: ClassVar[str] = "blocking_items"

    def phrase(self, shown: int = SHOWN_ITEMS) -> Phrase:
        titles = [i.title for i in self.items]
        return phrase(f"{len(self.items)} blocking item(s) not passing: ", listed(titles, shown))


@dataclass(frozen=True)
class NoFinalApproval:
    role: RoleRef
    kind: ClassVar[str] = "no_final_approval"

    def phrase(self) -> Phrase:
        return phrase("no final approval by ", self.role.title)


@dataclass(frozen=True)
class RejectedBy:
    user: str
    reason: str
    at: datetime
    kind: ClassVar[str] = "rejected"

    def phrase(self) -> Phrase:
        return phrase("rejected by ", Person(self.user), ": ", self.reason)


@dataclass(frozen=True)
class StaleSignatureReason:
    user: str
    role: RoleRef
    staleness: Staleness
    kind: ClassVar[str] = "stale_signature"

    def phrase(self) -> Phrase:
        return phrase(
            "the signature of ",
            Person(self.user),
            f" as {self.role.title} is stale (",
            self.staleness.phrase(),
            ")",
        )


Reason = (
    Cancelled
    | Suspended
    | WaitingFor
    | BlockingItems
    | NoFinalApproval
    | RejectedBy
    | StaleSignatureReason
    | ChangeFreeze
    | WaiverEnded
)


@dataclass(frozen=True)
class Condition:
    """One of section 10's conditions: `approvals` (every required role signed), `checks`
    (every blocking item passes), `final` (the final role signed), `no_rejection`."""

    kind: Literal["approvals", "checks", "final", "no_rejection"]
    met: bool
    role: RoleRef | None = None  # the final role, for `final`

    def phrase(self) -> Phrase:
        if self.kind == "approvals":
            return phrase("All required approvals received")
        if self.kind == "checks":
            return phrase("All blocking checks passing")
        if self.kind == "final":
            return phrase(f"Final approval by {self.role.title if self.role else 'the final role'}")
        return phrase("No open rejection")

    @property
    def text(self) -> str:
        return str(self.phrase())
