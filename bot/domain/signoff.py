"""Who may sign, withdraw, reject, tick or cancel, and what state that leaves the release in.

Each rule raises a DomainError whose text tells the person why, or returns quietly.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from bot.config import AppConfig, Item, Role
from bot.domain.errors import InvalidInput, InvalidState, NotAuthorized, NotFound
from bot.domain.model import PRE_DEPLOY, Rejection, Release, ReleaseState, Signature
from bot.domain.readiness import Readiness

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
    reason: str


def stale_reason(app: AppConfig, release: Release, signature: Signature) -> str | None:
    """Why a signature no longer counts: the release's ref or the checklist changed since."""
    role = app.roles.get(signature.role_id)
    seen = signature.evidence
    if role is None:
        return "its role is no longer in the checklist"
    if "ref" in role.stale_on and seen.get("ref") != release.ref:
        return f"the ref changed from `{seen.get('ref') or 'none'}` to `{release.ref or 'none'}`"
    if "config" in role.stale_on and seen.get("config_version") != app.version:
        return "the checklist changed since it was given"
    return None


def split_stale(
    app: AppConfig, release: Release, signatures: Sequence[Signature]
) -> tuple[list[Signature], list[StaleSignature]]:
    """(signatures that count, stale ones). A new ref or checklist counts only while the
    sign-off is in play: once a release is deployed (or cancelled) its signatures are the
    record of what was signed, and a later edit of app.yaml doesn't unsign them. A role
    gone from app.yaml is listed as stale either way, so its signature stays on record."""
    settled = not release.state.active
    fresh, stale = [], []
    for signature in signatures:
        kept_on_record = settled and signature.role_id in app.roles
        reason = None if kept_on_record else stale_reason(app, release, signature)
        if reason is None:
            fresh.append(signature)
        else:
            stale.append(StaleSignature(signature, reason))
    return fresh, stale


@dataclass(frozen=True)
class Condition:
    text: str
    met: bool


@dataclass(frozen=True)
class Authorization:
    approved: bool
    conditions: tuple[Condition, ...]
    reasons: tuple[str, ...]


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
    raise InvalidState(f"You can't {doing} {release.name}: {why}.")


def check_membership(app: AppConfig, role_id: str, memberships: frozenset[str]) -> None:
    if role_id not in memberships:
        title = get_role(app, role_id).title
        raise NotAuthorized(f"You are not an approver for {title} on this checklist.")


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
    if mine:
        held = app.roles[mine[0].role_id].title if mine[0].role_id in app.roles else mine[0].role_id
        if mine[0].role_id == role_id:
            raise InvalidState(f"You already signed as {role.title} on {release.name}.")
        raise NotAuthorized(
            f"You already signed {release.name} as {held}: one person holds one role per release."
        )
    taken = [s for s in signatures if s.role_id == role_id]
    if len(taken) >= role.min_signers:
        who = ", ".join(f"<@{s.user_id}>" for s in taken)
        raise InvalidState(f"{role.title} is already signed on {release.name} (by {who}).")
    if role.final:
        if user_id == release.created_by:
            raise NotAuthorized(
                f"You opened {release.name}, so you can't give its final approval: "
                "another member of the role must."
            )
        missing = [
            p.role.title
            for p in role_progress(app, signatures)
            if not p.role.final and not p.complete
        ]
        if missing:
            raise InvalidState(
                f"The final approval comes last: still waiting for {', '.join(missing)}."
            )
        failing = readiness.blocking_not_passing
        if failing:
            names = ", ".join(view.item.title for view in failing[:5])
            more = f" and {len(failing) - 5} more" if len(failing) > 5 else ""
            raise InvalidState(f"{len(failing)} blocking item(s) are not passing: {names}{more}.")


def check_can_withdraw(
    release: Release, user_id: str, signatures: Sequence[Signature]
) -> Signature:
    _require_state(
        release, frozenset({ReleaseState.OPEN, ReleaseState.BLOCKED}), "withdraw a signature from"
    )
    for signature in signatures:
        if signature.user_id == user_id:
            return signature
    raise NotFound(f"You have not signed {release.name}.")


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
        raise InvalidState(f"You have already rejected {release.name}.")
    return check_text(reason, "reason", MAX_REASON, required=True) or ""


def check_can_withdraw_rejection(
    release: Release, user_id: str, rejections: Sequence[Rejection]
) -> Rejection:
    _require_state(release, PRE_DEPLOY, "withdraw a rejection of")
    for rejection in rejections:
        if rejection.user_id == user_id:
            return rejection
    raise NotFound(f"You have no rejection on {release.name} to withdraw.")


def check_can_tick(
    app: AppConfig, release: Release, item: Item, memberships: frozenset[str]
) -> None:
    _require_state(release, PRE_DEPLOY, "change the checklist of")
    if item.automated:
        raise InvalidState(f"“{item.title}” is checked automatically; it can't be ticked by hand.")
    if item.owner is not None:
        if item.owner not in memberships:
            raise NotAuthorized(f"Only {app.roles[item.owner].title} can tick “{item.title}”.")
    elif not is_approver(app, memberships):
        raise NotAuthorized(f"Only approvers can tick “{item.title}”.")


def check_can_cancel(
    app: AppConfig, release: Release, user_id: str, memberships: frozenset[str]
) -> None:
    _require_state(release, PRE_DEPLOY, "cancel")
    if user_id != release.created_by and app.final_role not in memberships:
        raise NotAuthorized(
            f"Only the person who opened {release.name} or the "
            f"{app.roles[app.final_role].title} can cancel it."
        )


def check_text(value: str | None, what: str, limit: int, required: bool = False) -> str | None:
    text = (value or "").strip()
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
) -> Authorization:
    """Section 10 of the sign-off: approved only when every condition is met."""
    progress = role_progress(app, signatures)
    missing = [p.role.title for p in progress if not p.role.final and not p.complete]
    failing = readiness.blocking_not_passing
    final = next(p for p in progress if p.role.final)
    conditions = (
        Condition("All required approvals received", not missing),
        Condition("All blocking checks passing", not failing),
        Condition(f"Final approval by {final.role.title}", final.complete),
        Condition("No open rejection", not rejections),
    )
    reasons: list[str] = []
    if release.state in (ReleaseState.CANCELLED,):
        reasons.append("cancelled")
    if missing:
        reasons.append("waiting for " + ", ".join(missing))
    if failing:
        reasons.append(
            f"{len(failing)} blocking item(s) not passing: "
            + ", ".join(view.item.id for view in failing[:10])
        )
    if not final.complete:
        reasons.append(f"no final approval by {final.role.title}")
    reasons += [f"rejected by <@{r.user_id}>: {r.reason}" for r in rejections]
    reasons += [
        f"the signature of <@{s.signature.user_id}> as "
        f"{app.roles[s.signature.role_id].title if s.signature.role_id in app.roles else '?'} "
        f"is stale ({s.reason})"
        for s in stale
    ]
    if release.state is ReleaseState.SUSPENDED:
        reasons.insert(0, "suspended: a blocking item regressed after approval")
    approved = not reasons and release.state in (
        ReleaseState.APPROVED,
        ReleaseState.DEPLOYED,
        ReleaseState.MONITORING,
        ReleaseState.DONE,
    )
    return Authorization(approved, conditions, tuple(reasons))
