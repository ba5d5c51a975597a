"""Notices of waivers: asked for (with its buttons), answered, ended."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from bot.domain.model import PRE_DEPLOY, ReleaseState
from bot.domain.notices.signoff import Signer, _signers
from bot.domain.text import Moment, Person, Phrase, Quote, Strong, joined, phrase
from bot.domain.waivers import Waiver, WaiverState


@dataclass(frozen=True)
class WaiverRequested:
    """In the card's thread, with Approve waiver and Deny waiver."""

    release: int
    waiver: int
    user: str
    item: str  # the item's title
    duration: str  # as asked for: 2d
    reason: str
    approvers: tuple[str, ...] = ()  # the roles that may answer (titles)
    members: tuple[str, ...] = ()  # their members (but the requester), mentioned
    kind: Literal["waiver_requested"] = "waiver_requested"

    def phrase(self) -> Phrase:
        roles = joined(self.approvers, " or ")
        who = (
            phrase(joined((Person(m) for m in self.members), " or "), " (", roles, ")")
            if self.members
            else phrase("the ", roles)
        )
        return phrase(
            Person(self.user),
            " asks to waive ",
            Strong(f"“{self.item}”"),
            f" for {self.duration}:",
            Quote(self.reason),
            "\n",
            "For ",
            who,
            " to answer.",
        )


@dataclass(frozen=True)
class WaiverRequestNow:
    """A waiver's request as its message shows it now: Approve / Deny while it can be
    answered, then its answer and how it ended. Read afresh for each edit, never queued."""

    request: WaiverRequested
    waiver: Waiver
    release_state: ReleaseState = ReleaseState.OPEN

    @property
    def unanswerable(self) -> str | None:
        """Why an unanswered request can no longer be answered (its release left review)."""
        if self.waiver.state is not WaiverState.REQUESTED or self.release_state in PRE_DEPLOY:
            return None
        if self.release_state is ReleaseState.CANCELLED:
            return "the release was cancelled"
        return "the release was deployed"


@dataclass(frozen=True)
class WaiverAnswered:
    """Granted (until EXPIRES) or denied (with a reason), by USER."""

    user: str
    requested_by: str
    item: str
    granted: bool
    expires: datetime | None = None
    reason: str | None = None  # why it was denied
    stale: tuple[Signer, ...] = ()  # signatures given before the grant: to be given again
    kind: Literal["waiver_answered"] = "waiver_answered"

    def phrase(self) -> Phrase:
        item = Strong(f"“{self.item}”")
        if self.granted and self.expires is not None:
            said = phrase(
                Person(self.user),
                " granted the waiver of ",
                item,
                " asked for by ",
                Person(self.requested_by),
                ": it counts as passing until ",
                Moment(self.expires),
                ".",
            )
            if not self.stale:
                return said
            return phrase(
                said,
                "\nThese signatures were given before it and must be given again: ",
                _signers(self.stale),
            )
        return phrase(
            Person(self.user),
            " denied the waiver of ",
            item,
            " asked for by ",
            Person(self.requested_by),
            ":",
            Quote(self.reason or ""),
        )


@dataclass(frozen=True)
class WaiverEndedNotice:
    """The waiver no longer counts: expired, withdrawn by its grantor, or the ref moved."""

    item: str
    how: Literal["expired", "withdrawn", "ref_changed"]
    user: str | None = None  # who withdrew it
    status: str = ""  # the item's latest result, which counts again
    kind: Literal["waiver_ended"] = "waiver_ended"

    def phrase(self) -> Phrase:
        item = Strong(f"“{self.item}”")
        if self.how == "withdrawn":
            said = phrase(Person(self.user or ""), " withdrew the waiver of ", item)
        elif self.how == "expired":
            said = phrase("The waiver of ", item, " expired")
        else:
            said = phrase("The waiver of ", item, " ended: the release's ref changed")
        latest = f" ({self.status})" if self.status else ""
        return phrase(said, f". It counts by its latest result again{latest}.")
