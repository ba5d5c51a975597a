"""Signing, withdrawing, rejecting, and ticking manual items."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass, replace
from datetime import datetime

from bot.domain.authorization import DeploymentPlan, PlanProblems, check_plan, draft_plan
from bot.domain.checklist import AppConfig, Item, Role
from bot.domain.errors import Conflict, DomainError, InvalidInput, InvalidState
from bot.domain.forms import SignField
from bot.domain.model import Signature
from bot.domain.notices import (
    PlanRecorded,
    Rejected,
    RejectionWithdrawn,
    SignatureWithdrawn,
    Signed,
    Ticked,
)
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
from bot.services.deps import Service
from bot.services.membership import memberships
from bot.services.records import load_release, load_view, seen_by, settle


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
    """What the signer saw: the ref, the checklist version, each item's latest state (or
    `waived`), and the waivers in force."""
    items = view.readiness.items
    seen: dict[str, object] = {
        "ref": view.release.ref,
        "config_version": app.version,
        "readiness": view.readiness.percent,
        "items": {v.item.id: "waived" if v.waived else v.status.value for v in items},
    }
    waivers = sorted(v.waiver.id for v in items if v.waiver is not None)
    if waivers:
        seen["waivers"] = waivers
    return seen


class SignoffService(Service):
    async def prepare(self, release_id: int, role_id: str, user: str) -> SignIntent:
        """May this person sign as this role now? Raises the refusal; else what the modal needs."""
        app = await self.deps.config_of(release_id)
        held = await memberships(app, user, self.deps.directory)
        named = len(self.catalog) > 1
        check_membership(app, role_id, held, named)  # the common refusal needs no database
        role = get_role(app, role_id)
        async with self.deps.db.read() as uow:
            view = await load_view(uow, app, await load_release(uow, release_id))
            check_can_sign(app, view.release, role_id, user, held, view.signatures, view.readiness)
            plan = None
            if role.final:
                release = view.release
                previous = None
                if not release.rollback_plan:
                    previous = await uow.releases.previous_rollback_plan(
                        release.channel, release.id, release.product
                    )
                plan = draft_plan(app, release, view.signatures, previous)
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
        app = await self.deps.config_of(release_id)
        role = get_role(app, role_id)
        now = self.deps.clock.now()
        comment, plan = _check_form(role, attestations, comment, plan, now)
        held = await memberships(app, user, self.deps.directory)
        try:
            async with self.deps.db.write() as uow:
                release = await load_release(uow, release_id)
                before = await load_view(uow, app, release)
                check_can_sign(
                    app, release, role_id, user, held, before.signatures, before.readiness
                )
                # Signing again replaces the person's stale signature.
                replaced = {s.signature.id: s for s in before.stale if s.signature.user_id == user}
                for old in replaced.values():
                    await uow.signatures.withdraw(old.signature.id, now)
                    await uow.audit.append(
                        "signature.replaced",
                        now,
                        release.id,
                        user,
                        signature_id=old.signature.id,
                        reason=str(old.staleness.phrase()),
                    )
                signature = await uow.signatures.add(
                    release.id,
                    role_id,
                    user,
                    role.attestations,
                    comment,
                    evidence(app, before),
                    now,
                )
                await uow.audit.append(
                    "signature.added",
                    now,
                    release.id,
                    user,
                    role=role_id,
                    attestations=role.attestations,
                    comment=comment,
                    signature_id=signature.id,
                )
                if plan is not None:
                    await uow.releases.record_plan(release.id, plan, now)
                    await uow.audit.append(
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
                    release = replace(
                        release,
                        window_start=plan.window_start,
                        window_end=plan.window_end,
                        deploy_team=plan.team,
                        rollback_plan=plan.rollback_plan,
                    )
                await uow.outbox.enqueue(release.id, Signed(user, role.title, comment), now)
                if plan is not None:
                    recorded = PlanRecorded(plan.window_start, plan.window_end, plan.team)
                    await uow.outbox.enqueue(release.id, recorded, now)
                assert before.facts is not None
                kept = [s for s in before.facts.signatures if s.id not in replaced]
                signed = before.changed(app, release=release, signatures=(*kept, signature))
                view = await settle(uow, self.deps, signed, now, user)
        except Conflict:
            raise InvalidState("You already hold a signature on this release.") from None
        return signature, view

    async def check_withdraw(self, release_id: int, user: str) -> tuple[ReleaseView, str]:
        """Whether USER may withdraw their signature (raises why not): the release, and
        the title they signed as."""
        app = await self.deps.config_of(release_id)
        async with self.deps.db.read() as uow:
            view = await load_view(uow, app, await load_release(uow, release_id))
        assert view.facts is not None
        signature = check_can_withdraw(view.release, user, view.facts.signatures)
        return view, get_role(app, signature.role_id).title

    async def withdraw(self, release_id: int, user: str) -> ReleaseView:
        app = await self.deps.config_of(release_id)
        now = self.deps.clock.now()
        async with self.deps.db.write() as uow:
            before = await load_view(uow, app, await load_release(uow, release_id))
            assert before.facts is not None
            release = before.release
            signature = check_can_withdraw(release, user, before.facts.signatures)
            await uow.signatures.withdraw(signature.id, now)
            title = get_role(app, signature.role_id).title
            await uow.audit.append(
                "signature.withdrawn",
                now,
                release.id,
                user,
                role=signature.role_id,
                signature_id=signature.id,
            )
            await uow.outbox.enqueue(release.id, SignatureWithdrawn(user, title), now)
            kept = tuple(s for s in before.facts.signatures if s.id != signature.id)
            return await settle(uow, self.deps, before.changed(app, signatures=kept), now, user)

    async def checklist(self, release_id: int, user: str) -> tuple[ReleaseView, frozenset[str]]:
        """What the Checklist shows this person: the release, and the roles they hold
        (which manual items are theirs to tick)."""
        _, held, view = await seen_by(self.deps, release_id, user)
        return view, held

    async def check_reject(self, release_id: int, user: str) -> ReleaseView:
        """May this person reject now? (Asked before the reason modal opens.)"""
        app, held, view = await seen_by(self.deps, release_id, user)
        check_can_reject(app, view.release, user, held, view.rejections, "-")
        return view

    async def reject(self, release_id: int, user: str, reason: str) -> ReleaseView:
        app = await self.deps.config_of(release_id)
        held = await memberships(app, user, self.deps.directory)
        now = self.deps.clock.now()
        try:
            async with self.deps.db.write() as uow:
                before = await load_view(uow, app, await load_release(uow, release_id))
                release = before.release
                reason = check_can_reject(app, release, user, held, before.rejections, reason)
                rejection = await uow.signatures.reject(release.id, user, reason, now)
                await uow.audit.append("release.rejected", now, release.id, user, reason=reason)
                assert before.facts is not None
                # One answer per person: who rejects no longer approves.
                mine = [s for s in before.facts.signatures if s.user_id == user]
                for signature in mine:
                    await uow.signatures.withdraw(signature.id, now)
                    await uow.audit.append(
                        "signature.withdrawn",
                        now,
                        release.id,
                        user,
                        role=signature.role_id,
                        signature_id=signature.id,
                        by="rejection",
                    )
                withdrawn = app.role_title(mine[0].role_id) if mine else None
                notice = Rejected(user, release.name, reason, withdrawn)
                await uow.outbox.enqueue(release.id, notice, now)
                kept = tuple(s for s in before.facts.signatures if s.user_id != user)
                after = before.changed(
                    app, rejections=(*before.rejections, rejection), signatures=kept
                )
                return await settle(uow, self.deps, after, now, user)
        except Conflict:
            raise InvalidState("You have already rejected this release.") from None

    async def withdraw_rejection(self, release_id: int, user: str) -> ReleaseView:
        app = await self.deps.config_of(release_id)
        now = self.deps.clock.now()
        async with self.deps.db.write() as uow:
            before = await load_view(uow, app, await load_release(uow, release_id))
            release = before.release
            rejection = check_can_withdraw_rejection(release, user, before.rejections)
            await uow.signatures.withdraw_rejection(rejection.id, now)
            await uow.audit.append(
                "rejection.withdrawn", now, release.id, user, rejection_id=rejection.id
            )
            await uow.outbox.enqueue(release.id, RejectionWithdrawn(user), now)
            kept = tuple(r for r in before.rejections if r.id != rejection.id)
            return await settle(uow, self.deps, before.changed(app, rejections=kept), now, user)

    async def set_ticks(
        self, release_id: int, user: str, shown: Sequence[str], ticked: Collection[str]
    ) -> ReleaseView:
        """Apply the Checklist modal: among the manual items it showed, `ticked` are now done.

        All or nothing: if any change is not this person's to make, nothing changes.
        """
        app = await self.deps.config_of(release_id)
        held = await memberships(app, user, self.deps.directory)
        items = {item.id: item for item in app.items}
        now = self.deps.clock.now()
        async with self.deps.db.write() as uow:
            before = await load_view(uow, app, await load_release(uow, release_id))
            assert before.facts is not None
            release, current = before.release, dict(before.facts.ticks)
            changes = [
                (item_id, item_id in ticked)
                for item_id in shown
                if item_id in items and (item_id in current) != (item_id in ticked)
            ]
            problems: dict[str, str] = {}
            for item_id, _ in changes:
                try:
                    check_can_tick(app, release, items[item_id], held)
                except DomainError as exc:
                    problems[item_id] = str(exc)
            if problems:
                raise TickRefused(problems)
            if not changes:
                return before
            for item_id, on in changes:
                if on:
                    current[item_id] = await uow.checks.tick(release.id, item_id, user, now)
                else:
                    await uow.checks.untick(release.id, item_id)
                    del current[item_id]
            await uow.audit.append(
                "items.ticked",
                now,
                release.id,
                user,
                ticked=[i for i, on in changes if on],
                unticked=[i for i, on in changes if not on],
            )
            await uow.outbox.enqueue(release.id, _ticked(user, changes, items), now)
            return await settle(uow, self.deps, before.changed(app, ticks=current), now, user)


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
        problems[SignField.ATTESTATIONS] = "Tick every statement to sign: " + "; ".join(missing)
    try:
        comment = check_text(comment, "comment", MAX_COMMENT)
    except InvalidInput as exc:
        problems[SignField.COMMENT] = str(exc)
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


def _ticked(user: str, changes: list[tuple[str, bool]], items: dict[str, Item]) -> Ticked:
    return Ticked(
        user,
        tuple(items[i].title for i, on in changes if on),
        tuple(items[i].title for i, on in changes if not on),
    )
