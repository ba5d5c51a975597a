"""Signing, withdrawing, rejecting, and ticking manual items."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.exc import IntegrityError

from bot.config import AppConfig, Item, Role
from bot.domain.authorization import DeploymentPlan, PlanProblems, check_plan, draft_plan
from bot.domain.errors import DomainError, InvalidInput, InvalidState
from bot.domain.model import Signature
from bot.domain.signoff import (
    MAX_COMMENT,
    check_can_reject,
    check_can_sign,
    check_can_tick,
    check_can_withdraw,
    check_can_withdraw_rejection,
    check_membership,
    check_text,
    get_role,
)
from bot.domain.view import ReleaseView
from bot.services.deps import Deps
from bot.services.membership import memberships
from bot.services.notices import plan_summary
from bot.services.records import load_release, load_view, settle
from bot.text import escape, quote

ATTESTATIONS = "attestations"  # the Sign form's fields (section 10's are in domain/authorization)
COMMENT = "comment"


@dataclass(frozen=True)
class SignIntent:
    view: ReleaseView
    role_id: str
    role: Role
    plan: DeploymentPlan | None = None  # the final approval's form, prefilled


class SignProblems(InvalidInput):
    """What must change in the Sign form before it is accepted: field -> why, all at once."""

    def __init__(self, problems: dict[str, str]) -> None:
        super().__init__(" ".join(problems.values()))
        self.problems = problems


class TickRefused(DomainError):
    """Some of the ticks asked for are not this person's to change: item id -> why."""

    def __init__(self, problems: dict[str, str]) -> None:
        super().__init__(" ".join(problems.values()))
        self.problems = problems


def evidence(app: AppConfig, view: ReleaseView) -> dict[str, object]:
    """What the signer saw: the ref, the checklist version, each item's latest state."""
    return {
        "ref": view.release.ref,
        "config_version": app.version,
        "readiness": view.readiness.percent,
        "items": {v.item.id: v.status.value for v in view.readiness.items},
    }


class SignoffService:
    def __init__(self, deps: Deps) -> None:
        self.deps = deps

    @property
    def app(self) -> AppConfig:
        return self.deps.settings.app

    async def prepare(self, release_id: int, role_id: str, user: str) -> SignIntent:
        """May this person sign as this role now? Raises the refusal; else what the modal needs."""
        held = await memberships(self.app, user, self.deps.directory)
        check_membership(self.app, role_id, held)  # the common refusal needs no database
        role = get_role(self.app, role_id)
        async with self.deps.db.read() as repo:
            view = await load_view(repo, self.app, await load_release(repo, release_id))
            check_can_sign(
                self.app, view.release, role_id, user, held, view.signatures, view.readiness
            )
            plan = None
            if role.final:
                release = view.release
                previous = None
                if not release.rollback_plan:
                    previous = await repo.previous_rollback_plan(release.channel, release.id)
                plan = draft_plan(self.app, release, view.signatures, previous)
        return SignIntent(view, role_id, role, plan)

    async def sign(
        self,
        release_id: int,
        role_id: str,
        user: str,
        attestations: Collection[str],
        comment: str | None,
        plan: DeploymentPlan | None = None,
    ) -> tuple[Signature, ReleaseView]:
        """Record a signature; committed (on disk) before this returns.

        The final approval also records `plan` (section 10: window, team, rollback plan)
        in the same transaction; a form problem raises SignProblems and records nothing.
        """
        role = get_role(self.app, role_id)
        now = self.deps.clock.now()
        comment, plan = _check_form(role, attestations, comment, plan, now)
        held = await memberships(self.app, user, self.deps.directory)
        try:
            async with self.deps.db.write() as repo:
                release = await load_release(repo, release_id)
                before = await load_view(repo, self.app, release)
                check_can_sign(
                    self.app, release, role_id, user, held, before.signatures, before.readiness
                )
                for old in before.stale:  # signing again replaces the person's stale signature
                    if old.signature.user_id == user:
                        await repo.withdraw_signature(old.signature.id, now)
                        await repo.audit(
                            "signature.replaced",
                            now,
                            release.id,
                            user,
                            signature_id=old.signature.id,
                            reason=old.reason,
                        )
                signature = await repo.add_signature(
                    release.id,
                    role_id,
                    user,
                    role.attestations,
                    comment,
                    evidence(self.app, before),
                    now,
                )
                await repo.audit(
                    "signature.added",
                    now,
                    release.id,
                    user,
                    role=role_id,
                    attestations=role.attestations,
                    comment=comment,
                    signature_id=signature.id,
                )
                text = f"<@{user}> signed as *{escape(role.title)}*."
                if comment:
                    text += "\n" + quote(comment)
                if plan is not None:
                    await repo.record_plan(release.id, plan, now)
                    await repo.audit(
                        "authorization.recorded",
                        now,
                        release.id,
                        user,
                        window_start=_iso(plan.window_start),
                        window_end=_iso(plan.window_end),
                        team=list(plan.team),
                        rollback_plan=plan.rollback_plan,
                        signature_id=signature.id,
                    )
                await repo.enqueue(release.id, text, now)
                if plan is not None:
                    await repo.enqueue(release.id, plan_summary(plan), now)
                view = await settle(repo, self.app, release, now, user)
        except IntegrityError:
            raise InvalidState("You already hold a signature on this release.") from None
        self.deps.outbox_ready.set()
        return signature, view

    async def withdraw(self, release_id: int, user: str) -> ReleaseView:
        now = self.deps.clock.now()
        async with self.deps.db.write() as repo:
            release = await load_release(repo, release_id)
            signature = check_can_withdraw(release, user, await repo.signatures(release.id))
            await repo.withdraw_signature(signature.id, now)
            title = get_role(self.app, signature.role_id).title
            await repo.audit(
                "signature.withdrawn",
                now,
                release.id,
                user,
                role=signature.role_id,
                signature_id=signature.id,
            )
            await repo.enqueue(
                release.id, f"<@{user}> withdrew their signature as *{escape(title)}*.", now
            )
            view = await settle(repo, self.app, release, now, user)
        self.deps.outbox_ready.set()
        return view

    async def check_reject(self, release_id: int, user: str) -> ReleaseView:
        """May this person reject now? (Asked before the reason modal opens.)"""
        held = await memberships(self.app, user, self.deps.directory)
        async with self.deps.db.read() as repo:
            release = await load_release(repo, release_id)
            check_can_reject(self.app, release, user, held, await repo.rejections(release.id), "-")
            return await load_view(repo, self.app, release)

    async def reject(self, release_id: int, user: str, reason: str) -> ReleaseView:
        held = await memberships(self.app, user, self.deps.directory)
        now = self.deps.clock.now()
        try:
            async with self.deps.db.write() as repo:
                release = await load_release(repo, release_id)
                reason = check_can_reject(
                    self.app, release, user, held, await repo.rejections(release.id), reason
                )
                await repo.add_rejection(release.id, user, reason, now)
                await repo.audit("release.rejected", now, release.id, user, reason=reason)
                await repo.enqueue(
                    release.id,
                    f":no_entry: <@{user}> rejected *{escape(release.name)}*:\n{quote(reason)}",
                    now,
                )
                view = await settle(repo, self.app, release, now, user)
        except IntegrityError:
            raise InvalidState("You have already rejected this release.") from None
        self.deps.outbox_ready.set()
        return view

    async def withdraw_rejection(self, release_id: int, user: str) -> ReleaseView:
        now = self.deps.clock.now()
        async with self.deps.db.write() as repo:
            release = await load_release(repo, release_id)
            rejection = check_can_withdraw_rejection(
                release, user, await repo.rejections(release.id)
            )
            await repo.withdraw_rejection(rejection.id, now)
            await repo.audit(
                "rejection.withdrawn", now, release.id, user, rejection_id=rejection.id
            )
            await repo.enqueue(release.id, f"<@{user}> withdrew their rejection.", now)
            view = await settle(repo, self.app, release, now, user)
        self.deps.outbox_ready.set()
        return view

    async def set_ticks(
        self, release_id: int, user: str, shown: Sequence[str], ticked: Collection[str]
    ) -> ReleaseView:
        """Apply the Checklist modal: among the manual items it showed, `ticked` are now done.

        All or nothing: if any change is not this person's to make, nothing changes.
        """
        held = await memberships(self.app, user, self.deps.directory)
        items = {item.id: item for item in self.app.items}
        now = self.deps.clock.now()
        async with self.deps.db.write() as repo:
            release = await load_release(repo, release_id)
            current = await repo.ticks(release.id)
            changes = [
                (item_id, item_id in ticked)
                for item_id in shown
                if item_id in items and (item_id in current) != (item_id in ticked)
            ]
            problems: dict[str, str] = {}
            for item_id, _ in changes:
                try:
                    check_can_tick(self.app, release, items[item_id], held)
                except DomainError as exc:
                    problems[item_id] = str(exc)
            if problems:
                raise TickRefused(problems)
            if not changes:
                return await load_view(repo, self.app, release)
            for item_id, on in changes:
                if on:
                    await repo.tick(release.id, item_id, user, now)
                else:
                    await repo.untick(release.id, item_id)
            await repo.audit(
                "items.ticked",
                now,
                release.id,
                user,
                ticked=[i for i, on in changes if on],
                unticked=[i for i, on in changes if not on],
            )
            await repo.enqueue(release.id, _tick_message(user, changes, items), now)
            view = await settle(repo, self.app, release, now, user)
        self.deps.outbox_ready.set()
        return view


def _check_form(
    role: Role,
    attestations: Collection[str],
    comment: str | None,
    plan: DeploymentPlan | None,
    now: datetime,
) -> tuple[str | None, DeploymentPlan | None]:
    """The Sign form's fields, cleaned; every problem at once as SignProblems. Only the
    final role records a plan: whatever else sends one, it is ignored."""
    problems: dict[str, str] = {}
    missing = [a for a in role.attestations if a not in attestations]
    if missing:
        problems[ATTESTATIONS] = "Tick every statement to sign: " + "; ".join(missing)
    try:
        comment = check_text(comment, "comment", MAX_COMMENT)
    except InvalidInput as exc:
        problems[COMMENT] = str(exc)
    checked = None
    if role.final:
        try:
            checked = check_plan(plan or DeploymentPlan(), now)
        except PlanProblems as exc:
            problems.update(exc.problems)
    if problems:
        raise SignProblems(problems)
    return comment, checked


def _iso(at: datetime | None) -> str | None:
    return None if at is None else at.isoformat()


def _tick_message(user: str, changes: list[tuple[str, bool]], items: dict[str, Item]) -> str:
    def names(on: bool) -> str:
        return ", ".join(f"“{escape(items[i].title)}”" for i, flag in changes if flag is on)

    parts = []
    if any(on for _, on in changes):
        parts.append(f"ticked {names(True)}")
    if any(not on for _, on in changes):
        parts.append(f"unticked {names(False)}")
    return f"<@{user}> " + "; ".join(parts) + "."
