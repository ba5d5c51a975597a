"""What every use-case shares: walking the releases a page at a time, and inside its
transaction, reading a release's view once, settling its state on the facts it changed,
and handing the card its new view."""

from __future__ import annotations

import functools
from collections.abc import AsyncIterator, Collection, Sequence
from dataclasses import replace
from datetime import datetime

from bot.db import UnitOfWork
from bot.domain.checklist import AppConfig
from bot.domain.errors import NotFound
from bot.domain.model import Release, ReleaseState
from bot.domain.notices import (
    ApprovalSuspended,
    Approved,
    Blocked,
    Notice,
    Reopened,
    Signer,
    SignerItems,
)
from bot.domain.signoff import StaleSignature, derive_state
from bot.domain.view import ReleaseView, view_of
from bot.services.deps import Deps
from bot.services.membership import memberships

PAGE = 50  # releases read at a time when walking them all


async def pages(
    deps: Deps, states: Collection[ReleaseState], size: int = PAGE
) -> AsyncIterator[list[Release]]:
    """Every release in STATES, oldest first, a page at a time, each page its own read."""
    after = 0
    while True:
        async with deps.db.read() as uow:
            page = await uow.releases.page(sorted(states), after, size)
        if not page:
            return
        yield page
        after = page[-1].id


async def view_pages(
    deps: Deps, states: Collection[ReleaseState], size: int = PAGE
) -> AsyncIterator[list[ReleaseView]]:
    """The views of every release in STATES, oldest first, a page at a time (each page one
    short read, so a long walk never holds the database or the event loop)."""
    async for page in pages(deps, states, size):
        catalog = deps.catalog
        async with deps.db.read() as uow:
            yield [
                await load_view(uow, app, release)
                for release in page
                if (app := catalog.get(release.product)) is not None  # a product removed
            ]


async def load_release(uow: UnitOfWork, release_id: int) -> Release:
    release = await uow.releases.get(release_id)
    if release is None:
        raise NotFound("That release no longer exists.")
    return release


async def load_view(uow: UnitOfWork, app: AppConfig, release: Release) -> ReleaseView:
    """The release's view, from one read of its facts."""
    return view_of(app, await uow.facts(release))


def signers(app: AppConfig, stale: Sequence[StaleSignature]) -> tuple[Signer, ...]:
    """Stale signatures as the thread names them: who, as which role."""
    return tuple(
        Signer(s.signature.user_id, app.roles[s.signature.role_id].title)
        for s in stale
        if s.signature.role_id in app.roles
    )


async def seen_by(
    deps: Deps, release_id: int, user: str
) -> tuple[AppConfig, frozenset[str], ReleaseView]:
    """The release's config, the roles USER holds in it, and its view, read once: what a
    use-case looks at before a form opens (may this person do it now?)."""
    app = await deps.config_of(release_id)
    held = await memberships(app, user, deps.directory)
    async with deps.db.read() as uow:
        view = await load_view(uow, app, await load_release(uow, release_id))
    return app, held, view


async def show(uow: UnitOfWork, deps: Deps, view: ReleaseView) -> None:
    """The card must show VIEW (the release's state once this transaction commits): its
    version goes up, and the view goes to the sender with it."""
    version = await uow.releases.touch_card(view.release.id)
    uow.on_commit(functools.partial(deps.cards.put, view.release.id, version, view))


def _suspended(view: ReleaseView) -> ApprovalSuspended:
    """Which blocking items no longer pass, and which signers signed while they did (each
    person once, whatever roles they signed)."""
    failing = view.readiness.blocking_not_passing
    by_user: dict[str, list[str]] = {}
    for signature in view.signatures:
        seen = signature.evidence.get("items", {})
        for v in failing:
            titles = by_user.setdefault(signature.user_id, [])
            if seen.get(v.item.id) in ("pass", "waived") and v.item.title not in titles:
                titles.append(v.item.title)
    signers = tuple(SignerItems(user, tuple(t)) for user, t in by_user.items() if t)
    return ApprovalSuspended(view.release.name, tuple(v.item.title for v in failing), signers)


def _announcement(view: ReleaseView, state: ReleaseState) -> Notice | None:
    name = view.release.name
    if state is ReleaseState.APPROVED:
        return Approved(name, restored=view.release.state is ReleaseState.SUSPENDED)
    if state is ReleaseState.SUSPENDED:
        return _suspended(view)
    if state is ReleaseState.BLOCKED:
        return Blocked(name)
    if state is ReleaseState.OPEN:
        return Reopened(name)
    return None


async def settle(
    uow: UnitOfWork, deps: Deps, view: ReleaseView, now: datetime, actor: str | None
) -> ReleaseView:
    """Re-derive the release's state from VIEW's facts; record and announce any change.
    Returns the view as it now stands, which the card is given (the caller changed
    something it shows)."""
    release = view.release
    app = deps.config(release)
    state = derive_state(app, release.state, view.signatures, view.rejections, view.readiness)
    if state is not release.state:
        await uow.releases.set_state(release.id, state, now)
        await uow.audit.append(
            "release.state", now, release.id, actor, old=release.state.value, new=state.value
        )
        notice = _announcement(view, state)
        if notice is not None:
            await uow.outbox.enqueue(release.id, notice, now)
        approved_at = (release.approved_at or now) if state is ReleaseState.APPROVED else None
        moved = replace(release, state=state, approved_at=approved_at or release.approved_at)
        view = view.changed(app, release=moved)
    await show(uow, deps, view)
    return view
