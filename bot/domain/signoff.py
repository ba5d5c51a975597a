"""Who may sign, withdraw, reject, tick or cancel, and what state that leaves the release in.

Each rule raises a DomainError whose text tells the person why, or returns quietly.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from bot.domain.checklist import AppConfig, Item, Role
from bot.domain.errors import InvalidInput, InvalidState, NotAuthorized, NotFound
from bot.domain.freezes import ChangeFreeze
from bot.domain.model import PRE_DEPLOY, SHIPPED, Rejection, Release, ReleaseState, Signature
from bot.domain.readiness import Readiness
from bot.domain.reasons import (
    BlockingItems,
    Cancelled,
    Condition,
    ItemRef,
    NoFinalApproval,
    Reason,
    RejectedBy,
    RoleRef,
    Staleness,
    StaleSignatureReason,
    Suspended,
    WaitingFor,
)
from bot.domain.text import Person, clean, joined, listed
from bot.domain.waivers import Waiver, WaiverEnded

MAX_REASON = 500
MAX_COMMENT = 1000


@dataclass(frozen=True)
class RoleProgress:
    role_id: str
    role: Role
    signatures: tuple[Signature, ...]

    @property
    def complete(self) -> bool:
        return len(self.signatures) >= self.role.min_signers


@dataclass(frozen=True)
class StaleSignature:
    """A signature given on evidence that no longer holds: it counts no more."""

    signature: Signature
    staleness: Staleness


def staleness(
    app: AppConfig,
    release: Release,
    signature: Signature,
    waived: Mapping[str, Waiver] | None = None,
) -> Staleness | None:
    """Why a signature no longer counts: the release's ref or the checklist changed since,
    or one of the waivers in force (WAIVED, by item id) was granted after it was given."""
    role = app.roles.get(signature.role_id)
    seen = signature.evidence
    if role is None:
        return Staleness("role")
    if "ref" in role.stale_on and seen.get("ref") != release.ref:
        return Staleness("ref", seen.get("ref"), release.ref)
    if "config" in role.stale_on and seen.get("config_version") != app.version:
        return Staleness("config")
    if "waiver" in role.stale_on and waived:
        known = set(seen.get("waivers") or ())
        for item_id, waiver in waived.items():
            if waiver.id not in known:
                return Staleness("waiver", None, app.title_of(item_id))
    return None


def split_stale(
    app: AppConfig,
    release: Release,
    signatures: Sequence[Signature],
    waived: Mapping[str, Waiver] | None = None,
) -> tuple[list[Signature], list[StaleSignature]]:
    """(signatures that count, stale ones). Once a release is deployed its signatures are
    the record of what was signed, and a later edit of app.yaml doesn't unsign them; before
    that (a cancelled release too: its sign-off never completed) a new ref or checklist
    makes them stale, as does a waiver granted since (WAIVED: those in force). A role gone
    from app.yaml is stale either way, so its signature stays on record."""
    settled = release.state in SHIPPED
    fresh, stale = [], []
    for signature in signatures:
        kept_on_record = settled and signature.role_id in app.roles
        why = None if kept_on_record else staleness(app, release, signature, waived)
        if why is None:
            fresh.append(signature)
        else:
            stale.append(StaleSignature(signature, why))
    return fresh, stale


@dataclass(frozen=True)
class Authorization:
    approved: bool
    conditions: tuple[Condition, ...]
    reasons: tuple[Reason, ...]


def role_progress(app: AppConfig, signatures: Sequence[Signature]) -> list[RoleProgress]:
    return [
        RoleProgress(role_id, role, tuple(s for s in signatures if s.role_id == role_id))
        for role_id, role in app.roles.items()
    ]


def get_role(app: AppConfig, role_id: str) -> Role:
    try:
        return app.roles[role_id]
    except KeyError:
        raise NotFound(f"There is no role {role_id!r} in this checklist.") from None


def is_approver(app: AppConfig, memberships: frozenset[str]) -> bool:
    """`memberships` are the role ids the person holds (resolved with user groups)."""
    return any(role_id in app.roles for role_id in memberships)


def _require_state(release: Release, allowed: frozenset[ReleaseState], doing: str) -> None:
    if release.state in allowed:
        return
    why = {
        ReleaseState.BLOCKED: "it is blocked by a rejection",
        ReleaseState.APPROVED: "it is already approved",
        ReleaseState.SUSPENDED: "its approval is suspended",
        ReleaseState.CANCELLED: "it was cancelled",
    }.get(release.state, f"it is {release.state.value}")
    raise InvalidState(f"You can't {doing} ", release.name, f": {why}.")


def check_membership(
    app: AppConfig, role_id: str, memberships: frozenset[str], named: bool = False
) -> None:
    """NAMED: the bot serves several products, and the refusal says whose role it is."""
    if role_id not in memberships:
        title = get_role(app, role_id).title
        where = f" on the {app.product} checklist." if named else " on this checklist."
        raise NotAuthorized("You are not an approver for ", title, where)


def check_can_sign(
    app: AppConfig,
    release: Release,
    role_id: str,
    user_id: str,
    memberships: frozenset[str],
    signatures: Sequence[Signature],
    readiness: Readiness,
) -> None:
    role = get_role(app, role_id)
    _require_state(release, frozenset({ReleaseState.OPEN}), f"sign as {role.title} on")
    check_membership(app, role_id, memberships)
    mine = [s for s in signatures if s.user_id == user_id]
    name = release.name
    if mine:
        held = app.role_title(mine[0].role_id)
        if mine[0].role_id == role_id:
            raise InvalidState("You already signed as ", role.title, " on ", name, ".")
        raise NotAuthorized(
            "You already signed ", name, " as ", held, ": one person holds one role per release."
        )
    taken = [s for s in signatures if s.role_id == role_id]
    if len(taken) >= role.min_signers:
        who = joined(Person(s.user_id) for s in taken)
        raise InvalidState(role.title, " is already signed on ", name, " (by ", who, ").")
    if role.final:
        if user_id == release.created_by:
            raise NotAuthorized(
                "You opened ",
                name,
                ", so you can't give its final approval: another member of the role must.",
            )
        missing = [
            p.role.title
            for p in role_progress(app, signatures)
            if not p.role.final and not p.complete
        ]
        if missing:
            raise InvalidState(
                "The final approval comes last: still waiting for ", joined(missing), "."
            )
        failing = readiness.blocking_not_passing
        if failing:
            titles = listed([view.item.title for view in failing], 5)
            raise InvalidState(f"{len(failing)} blocking item(s) are not passing: ", titles, ".")


def check_can_withdraw(
    release: Release, user_id: str, signatures: Sequence[Signature]
) -> Signature:
    _require_state(
        release, frozenset({ReleaseState.OPEN, ReleaseState.BLOCKED}), "withdraw a signature from"
    )
    for signature in signatures:
        if signature.user_id == user_id:
            return signature
    raise NotFound("You have not signed ", release.name, ".")


def check_can_reject(
    app: AppConfig,
    release: Release,
    user_id: str,
    memberships: frozenset[str],
    rejections: Sequence[Rejection],
    reason: str,
) -> str:
    _require_state(release, PRE_DEPLOY, "reject")
    if not is_approver(app, memberships):
        raise NotAuthorized("Only approvers (members of a role) can reject a release.")
    if any(r.user_id == user_id for r in rejections):
        raise InvalidState("You have already rejected ", release.name, ".")
    return check_text(reason, "reason", MAX_REASON, required=True) or ""


def check_can_withdraw_rejection(
    release: Release, user_id: str, rejections: Sequence[Rejection]
) -> Rejection:
    _require_state(release, PRE_DEPLOY, "withdraw a rejection of")
    for rejection in rejections:
        if rejection.user_id == user_id:
            return rejection
    raise NotFound("You have no rejection on ", release.name, " to withdraw.")


def check_can_tick(
    app: AppConfig, release: Release, item: Item, memberships: frozenset[str]
) -> None:
    _require_state(release, PRE_DEPLOY, "change the checklist of")
    title = f"“{item.title}”"
    if item.automated:
        raise InvalidState(title, " is checked automatically; it can't be ticked by hand.")
    if may_tick(app, item, memberships):
        return
    if item.owner is not None:
        raise NotAuthorized(f"Only {app.role_title(item.owner)} can tick or untick ", title, ".")
    raise NotAuthorized("Only approvers can tick or untick ", title, ".")


def may_tick(app: AppConfig, item: Item, memberships: frozenset[str]) -> bool:
    """Whether someone holding MEMBERSHIPS ticks this manual item: its owner role's
    members, or (an item no role owns) any approver."""
    if item.automated:
        return False
    if item.owner is not None:
        return item.owner in memberships
    return is_approver(app, memberships)


def check_can_cancel(
    app: AppConfig, release: Release, user_id: str, memberships: frozenset[str]
) -> None:
    _require_state(release, PRE_DEPLOY, "cancel")
    if user_id != release.created_by and app.final_role not in memberships:
        raise NotAuthorized(
            "Only the person who opened ",
            release.name,
            f" or the {app.role_title(app.final_role)} can cancel it.",
        )


def check_text(value: str | None, what: str, limit: int, required: bool = False) -> str | None:
    """What a person wrote, cleaned (control and bidirectional-override characters
    dropped), within LIMIT characters; InvalidInput otherwise."""
    text = clean(value or "")
    if required and not text:
        raise InvalidInput(f"Please give a {what}.")
    if len(text) > limit:
        raise InvalidInput(f"The {what} is too long ({len(text)} characters, at most {limit}).")
    return text or None


def derive_state(
    app: AppConfig,
    current: ReleaseState,
    signatures: Sequence[Signature],
    rejections: Sequence[Rejection],
    readiness: Readiness,
) -> ReleaseState:
    """The state the facts put a release in; settled states (deployed, cancelled…) stay."""
    if current not in PRE_DEPLOY:
        return current
    if rejections:
        return ReleaseState.BLOCKED
    if any(s.role_id == app.final_role for s in signatures):
        return ReleaseState.APPROVED if readiness.blocking_pass else ReleaseState.SUSPENDED
    return ReleaseState.OPEN


def authorize(
    app: AppConfig,
    release: Release,
    signatures: Sequence[Signature],
    rejections: Sequence[Rejection],
    readiness: Readiness,
    stale: Sequence[StaleSignature] = (),
    frozen: Sequence[ChangeFreeze] = (),
    unwaived: Sequence[WaiverEnded] = (),
) -> Authorization:
    """Section 10 of the sign-off: approved only when every condition is met, and no
    change freeze (FROZEN: those covering now without an exception) holds it. UNWAIVED:
    failing blocking items whose waiver ended, named among the reasons."""
    progress = role_progress(app, signatures)
    missing = [
        RoleRef(p.role_id, p.role.title) for p in progress if not p.role.final and not p.complete
    ]
    failing = readiness.blocking_not_passing
    final = next(p for p in progress if p.role.final)
    final_ref = RoleRef(final.role_id, final.role.title)
    conditions = (
        Condition("approvals", not missing),
        Condition("checks", not failing),
        Condition("final", final.complete, final_ref),
        Condition("no_rejection", not rejections),
    )
    reasons: list[Reason] = []
    if release.state is ReleaseState.SUSPENDED:
        reasons.append(Suspended())
    if release.state is ReleaseState.CANCELLED:
        reasons.append(Cancelled())
    if missing:
        reasons.append(WaitingFor(tuple(missing)))
    if failing:
        reasons.append(BlockingItems(tuple(ItemRef(v.item.id, v.item.title) for v in failing)))
        reasons += unwaived
    if not final.complete:
        reasons.append(NoFinalApproval(final_ref))
    reasons += [RejectedBy(r.user_id, r.reason, r.created_at) for r in rejections]
    reasons += [
        StaleSignatureReason(
            s.signature.user_id,
            RoleRef(s.signature.role_id, app.role_title(s.signature.role_id)),
            s.staleness,
        )
        for s in stale
    ]
    if release.state in PRE_DEPLOY:  # once deployed, a freeze changes nothing
        reasons += frozen
    approved = not reasons and release.state in (
        ReleaseState.APPROVED,
        ReleaseState.DEPLOYED,
        ReleaseState.MONITORING,
        ReleaseState.DONE,
    )
    return Authorization(approved, conditions, tuple(reasons))
