"""Who a sign-off is still waiting for, and who can act on it now."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from bot.domain.checklist import AppConfig, Role
from bot.domain.freezes import overlapping
from bot.domain.model import Release, Signature
from bot.domain.notices import (
    BlockedRelease,
    DailyReminder,
    PendingSigner,
    Reminder,
    Waiting,
    WaitingFor,
)
from bot.domain.notices.reminders import FreezeAhead, FreezeOverlap
from bot.domain.signoff import role_progress
from bot.domain.view import ReleaseView


@dataclass(frozen=True)
class PendingRole:
    role_id: str
    role: Role
    missing: int  # signatures still needed
    members: tuple[str, ...]  # the role's members who may still sign it
    usergroups: tuple[str, ...]
    waiting: bool  # the final approval, which can't be given before the others

    @property
    def can_act(self) -> bool:
        return not self.waiting


def pending_roles(
    app: AppConfig, release: Release, signatures: Sequence[Signature]
) -> list[PendingRole]:
    """The roles not yet signed, in the checklist's order.

    A member who already holds another role on this release can't sign a second one,
    and the person who opened the release can't give its final approval: neither is
    listed as someone who may still sign.
    """
    signed = {s.user_id for s in signatures}
    progress = role_progress(app, signatures)
    others_done = all(p.complete for p in progress if not p.role.final)
    pending: list[PendingRole] = []
    for p in progress:
        if p.complete:
            continue
        members = tuple(
            m
            for m in p.role.members
            if m not in signed and not (p.role.final and m == release.created_by)
        )
        pending.append(
            PendingRole(
                p.role_id,
                p.role,
                p.role.min_signers - len(p.signatures),
                members,
                tuple(p.role.usergroups),
                waiting=p.role.final and not others_done,
            )
        )
    return pending


def reminder(
    app: AppConfig,
    view: ReleaseView,
    window_start: datetime | None = None,
    now: datetime | None = None,
) -> Reminder | None:
    """The reminder of who still has to sign VIEW's release (None when nobody has to), with
    the change freezes (as of NOW) that overlap its planned window."""
    pending = pending_roles(app, view.release, view.signatures)
    if not pending:
        return None
    ahead = _freezes_ahead(app, view.release, now)
    return Reminder(
        name=view.release.name,
        pending=tuple(
            PendingSigner(p.role.title, p.missing, p.members, p.usergroups, p.waiting)
            for p in pending
        ),
        readiness=view.readiness.percent,
        failing=len(view.readiness.blocking_not_passing),
        rejected_by=tuple(r.user_id for r in view.rejections),
        window_start=window_start,
        freezes=tuple(ahead),
    )


def _freezes_ahead(app: AppConfig, release: Release, now: datetime | None) -> list[FreezeAhead]:
    """The change freezes (current or next, as of NOW) overlapping RELEASE's planned
    window (none without a whole window, or without NOW)."""
    if now is None or release.window_start is None or release.window_end is None:
        return []
    found = overlapping(app.freezes, release.window_start, release.window_end, now)
    return [FreezeAhead(w.title, w.start, w.end) for w in found]


def daily_reminder(
    app: AppConfig, views: Sequence[ReleaseView], now: datetime | None = None
) -> DailyReminder | None:
    """One reminder for these releases (one channel's): per person and user group who can
    sign now, every release waiting for them; the blocked ones and who blocks them; the
    change freezes (as of NOW; None: none looked at) overlapping a listed release's
    planned window. None when nobody is waited for."""
    people: dict[tuple[str, str], list[Waiting]] = {}
    blocked = []
    listed: list[Release] = []
    for view in views:
        release = view.release
        if view.rejections:
            rejecters = tuple(r.user_id for r in view.rejections)
            blocked.append(
                BlockedRelease(release.name, rejecters, release.channel, release.card_ts)
            )
            listed.append(release)
            continue  # nobody can sign it until then
        waited = False
        for pending in pending_roles(app, release, view.signatures):
            if pending.waiting:
                continue  # the final approval's turn comes after the others
            waiting = Waiting(
                release.name,
                pending.role.title,
                release.channel,
                release.card_ts,
                view.readiness.percent,
            )
            for user in pending.members:
                people.setdefault(("user", user), []).append(waiting)
            for group in pending.usergroups:
                people.setdefault(("group", group), []).append(waiting)
            waited = waited or bool(pending.members or pending.usergroups)
        if waited:
            listed.append(release)
    if not people and not blocked:
        return None
    freezes = [
        FreezeOverlap(release.name, ahead.title, ahead.start, ahead.end)
        for release in listed
        for ahead in _freezes_ahead(app, release, now)
    ]
    return DailyReminder(
        people=tuple(
            WaitingFor(
                tuple(found),
                user=who if kind == "user" else None,
                usergroup=who if kind == "group" else None,
            )
            for (kind, who), found in people.items()
        ),
        blocked=tuple(blocked),
        freezes=tuple(freezes),
    )
