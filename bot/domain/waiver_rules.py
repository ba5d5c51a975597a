"""Who may ask for, grant, deny and withdraw a waiver, and when. Each rule raises a
DomainError whose text tells the person why, or returns what it cleaned."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.domain.checklist import AppConfig, Item
from bot.domain.errors import InvalidInput, InvalidState, NotAuthorized, NotFound
from bot.domain.model import PRE_DEPLOY, ItemStatus, ReleaseState
from bot.domain.notices import WaiverRequested
from bot.domain.signoff import MAX_REASON, check_text, is_approver
from bot.domain.text import Code, Moment, Person, joined
from bot.domain.view import ReleaseView
from bot.domain.waivers import Waiver, WaiverState
from checks.durations import format_duration, parse_duration

DURATION_FORMAT = Code("for=2d")
SHORTEST = timedelta(seconds=1)  # stored in whole seconds


class BadDuration(InvalidInput):
    """What `for=` (the form's duration) says can't be used: said on that field."""


@dataclass(frozen=True)
class WaiverAsk:
    """A request as cleaned: the item, how long, and why."""

    item: Item
    duration: timedelta
    reason: str


def parse_for(raw: str | None, app: AppConfig) -> timedelta:
    """`for=DURATION` (e.g. 2d, 12h), above 0 and at most `waivers.max`; InvalidInput."""
    longest = app.waivers.max
    if not raw:
        raise BadDuration(
            "Say how long the waiver lasts, e.g. ",
            DURATION_FORMAT,
            f" (at most {format_duration(longest)}).",
        )
    try:
        duration = parse_duration(raw)
    except (ValueError, OverflowError):  # 9999999999d overflows timedelta
        raise BadDuration(
            "I couldn't read ",
            Code(raw),
            " as a duration; write a number and a unit, e.g. ",
            Code("12h"),
            " or ",
            Code("2d"),
            ".",
        ) from None
    if duration > longest:
        raise BadDuration(
            f"A waiver lasts at most {format_duration(longest)} here "
            f"({format_duration(duration)} asked for)."
        )
    if duration < SHORTEST:
        raise BadDuration(f"A waiver lasts at least a second ({raw} asked for).")
    return duration


def _pre_deploy(view: ReleaseView, doing: str) -> None:
    state = view.release.state
    if state not in PRE_DEPLOY or state is ReleaseState.CANCELLED:
        raise InvalidState(f"You can't {doing} on ", view.release.name, f": it is {state.value}.")


def check_can_request(
    app: AppConfig,
    view: ReleaseView,
    item_id: str,
    held: frozenset[str],
    duration: timedelta,
    reason: str | None,
) -> WaiverAsk:
    """An approver asks for a waiver of a checklist item that is not passing (REASON None:
    only asking whether they may)."""
    _pre_deploy(view, "ask for a waiver")
    if not is_approver(app, held):
        raise NotAuthorized("Only approvers (members of a role) can ask for a waiver.")
    item = next((i for i in app.items if i.id == item_id), None)
    if item is None:
        raise NotFound(
            "There is no checklist item ",
            Code(item_id),
            f" on the {app.product} checklist.",
        )
    title = f"“{item.title}”"
    if not item.waivable:
        raise InvalidState(title, " can't be waived: the checklist says it must pass.")
    shown = next(v for v in view.readiness.items if v.item.id == item_id)
    if shown.status is ItemStatus.PASS:
        raise InvalidState(title, " is passing; it needs no waiver.")
    if shown.status is ItemStatus.PENDING:  # a waiver is for a failing item, not a skipped one
        why = "not checked yet" if item.automated else "not ticked yet"
        raise InvalidState(title, f" is {why}: a waiver is for an item that fails.")
    open_ = [w for w in view.waivers if w.item_id == item_id and w.state.open]
    for waiver in open_:
        if waiver in view.in_force:
            assert waiver.expires_at is not None
            raise InvalidState(
                title,
                " is already waived, by ",
                Person(waiver.decided_by or ""),
                " until ",
                Moment(waiver.expires_at),
                ".",
            )
        if waiver.state is WaiverState.REQUESTED:
            raise InvalidState(
                "A waiver of ",
                title,
                " is already asked for, by ",
                Person(waiver.requested_by),
                "; it waits for an answer.",
            )
    said = check_text(reason, "reason", MAX_REASON, required=True) if reason is not None else ""
    return WaiverAsk(item, duration, said or "")


def find_waiver(view: ReleaseView, waiver_id: int) -> Waiver:
    for waiver in view.waivers:
        if waiver.id == waiver_id:
            return waiver
    raise NotFound("That waiver is no longer on ", view.release.name, ".")


def check_can_answer(
    app: AppConfig,
    view: ReleaseView,
    waiver: Waiver,
    user: str,
    held: frozenset[str],
    grant: bool,
    reason: str | None,
) -> str | None:
    """A member of a `waivers.approvers` role, never the requester, grants or denies
    (a denial says why; REASON None: only asking whether they may)."""
    approvers = app.waiver_approvers
    if not any(role in held for role in approvers):
        titles = joined(app.role_title(r) for r in approvers)
        raise NotAuthorized("Only the ", titles, " can answer a waiver request.")
    if user == waiver.requested_by:
        raise NotAuthorized("You asked for this waiver, so another approver must answer it.")
    if waiver.state is not WaiverState.REQUESTED:
        raise InvalidState(_answered(waiver))
    _pre_deploy(view, "answer a waiver")
    if grant or reason is None:
        return None
    return check_text(reason, "reason", MAX_REASON, required=True)


def _answered(waiver: Waiver) -> str:
    return {
        WaiverState.GRANTED: "That waiver was already granted.",
        WaiverState.DENIED: "That waiver was already denied.",
        WaiverState.WITHDRAWN: "That waiver was granted, then withdrawn.",
        WaiverState.EXPIRED: "That waiver was granted, and has expired.",
        WaiverState.REF_CHANGED: "That request ended when the release's ref changed.",
    }.get(waiver.state, "That waiver was already answered.")


def check_can_withdraw(view: ReleaseView, waiver: Waiver, user: str) -> None:
    """Only its grantor withdraws a waiver still in force."""
    if waiver not in view.in_force:
        raise InvalidState("That waiver is no longer in force.")
    if user != waiver.decided_by:
        raise NotAuthorized(
            "Only ", Person(waiver.decided_by or ""), ", who granted it, can withdraw it."
        )
    _pre_deploy(view, "withdraw a waiver")


def request_notice(app: AppConfig, release_id: int, waiver: Waiver) -> WaiverRequested:
    """The request as the thread shows it: who asks, what, for how long, why, and who may
    answer (the approver roles' members, but the requester)."""
    roles = app.waiver_approvers
    members = dict.fromkeys(
        m for r in roles for m in app.roles[r].members if m != waiver.requested_by
    )
    return WaiverRequested(
        release_id,
        waiver.id,
        waiver.requested_by,
        app.title_of(waiver.item_id),
        format_duration(waiver.duration),
        waiver.reason,
        tuple(app.role_title(r) for r in roles),
        tuple(members),
    )


def expiry(now: datetime, waiver: Waiver) -> datetime:
    """When a waiver granted NOW ends: its duration from the grant."""
    return now + waiver.duration
