"""Opening (and checking), finding, listing and cancelling releases."""

from __future__ import annotations

import logging
import re
from collections.abc import Collection, Sequence
from dataclasses import dataclass, replace
from datetime import datetime

from bot.db import UnitOfWork
from bot.domain.authorization import parse_window
from bot.domain.errors import Conflict, InvalidInput, InvalidState
from bot.domain.model import PRE_DEPLOY, Release, ReleaseState
from bot.domain.notices import ChecklistChanged, RefMoved, ReleaseCancelled
from bot.domain.signoff import check_can_cancel
from bot.domain.text import Code, clean
from bot.domain.view import ReleaseView
from bot.domain.waivers import WaiverState
from bot.services.checking import CheckService
from bot.services.deps import Deps, Service
from bot.services.finding import resolve
from bot.services.membership import memberships
from bot.services.records import load_release, load_view, settle, show, signers, view_pages
from bot.services.waivers import end_waivers, lapse, moved_off

log = logging.getLogger(__name__)

LISTED = 15  # releases a page of `/readiness list` shows
MAX_NAME = 80
MAX_REF = 200
_NAME = re.compile(r"^[\w .:/+@#-]+$")
_REF = re.compile(r"^[\w.:/+@#-]+$")
STALE_CONFIG = "stale-config:"  # + checklist version: releases told of it once


@dataclass(frozen=True)
class Listing:
    """A page of releases, and where it stands among them all."""

    views: tuple[ReleaseView, ...]
    total: int
    page: int
    pages: int
    states: frozenset[ReleaseState]
    products: tuple[str, ...] | None = None  # the products listed (None: every one)
    grouped: bool = False  # several products' releases, each product's together


@dataclass(frozen=True)
class Opened:
    release: Release
    created: bool
    moved: bool = False  # an open release given a new ref
    old_ref: str | None = None  # the ref it had before (None: it had none)
    checks: int | None = None  # checks started (None: a run was already in flight)


def check_name(raw: str) -> str:
    name = re.sub(r"\s+", " ", clean(raw))
    if not name:
        raise InvalidInput(
            "Give the release a name, e.g. ", Code("/readiness new LUMINES 1.0.0"), "."
        )
    if len(name) > MAX_NAME:
        raise InvalidInput(f"Release names are at most {MAX_NAME} characters.")
    if not _NAME.match(name):
        raise InvalidInput(
            "Release names may use letters, digits, spaces and . : / + @ # - _ only."
        )
    return name


def check_ref(raw: str | None) -> str | None:
    """A commit SHA, a tag or an image digest (None: no ref)."""
    if raw is None:
        return None
    ref = clean(raw)
    if not ref:
        return None
    if len(ref) > MAX_REF or not _REF.match(ref):
        raise InvalidInput(
            f"A ref is a commit SHA, a tag or an image digest of at most {MAX_REF} "
            "characters: letters, digits and . : / @ + # - _ only."
        )
    return ref


class ReleaseService(Service):
    """Releases. Given the bot's CheckService, opening a release (or moving it to a new
    ref) starts its checks; without one (tests of the rules around opening), it doesn't."""

    def __init__(self, deps: Deps, checks: CheckService | None = None) -> None:
        super().__init__(deps)
        self.checks = checks

    async def open(
        self,
        name: str,
        ref: str | None,
        user: str,
        channel: str,
        window: str | None = None,
        product: str | None = None,
    ) -> Opened:
        """Open a release of PRODUCT (else of the channel's product, else of the only one)
        in its release channel (this one when it is one of them, or none is configured)
        and start its checks; a release of that name already open in the product is
        returned as it is, or moved to REF (its checks start again).

        `window` is a planned deployment window, `START/END` in ISO 8601 with a time zone;
        a bad one is refused before anything is recorded.
        """
        name = check_name(name)
        ref = check_ref(ref)
        pid = self.catalog.choose(product, channel)
        app = self.catalog.config(pid)
        home = channel if channel in app.homes or not app.homes else app.homes[0]
        now = self.deps.clock.now()
        planned = parse_window(clean(window), now) if window is not None else None
        try:
            async with self.deps.db.write() as uow:
                existing = await uow.releases.by_name(name, pid)
                if existing is not None and existing.state is not ReleaseState.CANCELLED:
                    if ref is None or ref == existing.ref:
                        return Opened(existing, created=False)
                    moved = await self._move(uow, existing, ref, user, now)
                    opened = Opened(moved, created=False, moved=True, old_ref=existing.ref)
                else:
                    added = await self._add(uow, pid, name, home, ref, user, planned, now)
                    opened = Opened(added, True)
        except Conflict:  # opened by someone else a moment ago
            async with self.deps.db.read() as uow:
                existing = await uow.releases.by_name(name, pid)
            if existing is None:
                raise
            return Opened(existing, created=False)
        if self.checks is None:
            return opened
        trigger = "opened" if opened.created else "ref"
        return replace(opened, checks=await self.checks.start(opened.release.id, trigger, user))

    async def _add(
        self,
        uow: UnitOfWork,
        product: str,
        name: str,
        channel: str,
        ref: str | None,
        user: str,
        planned: tuple[datetime, datetime] | None,
        now: datetime,
    ) -> Release:
        version = self.catalog.config(product).version
        release = await uow.releases.add(name, channel, ref, user, now, version, product)
        planning: dict[str, list[str]] = {}
        if planned is not None:
            await uow.releases.plan_window(release.id, *planned, now)
            release = replace(release, window_start=planned[0], window_end=planned[1])
            planning = {"window": [at.isoformat() for at in planned]}
        await uow.audit.append(
            "release.opened",
            now,
            release.id,
            user,
            product=product,
            name=name,
            ref=ref,
            channel=channel,
            config_version=version,
            **planning,
        )
        return release

    async def _move(
        self, uow: UnitOfWork, release: Release, ref: str, user: str, now: datetime
    ) -> Release:
        """A new ref for a release still being signed: the signatures given on the old one
        go stale (per role's `stale_on`); the thread says whose and why."""
        if release.state not in PRE_DEPLOY:
            raise InvalidState(
                f"{release.name} is {release.state.value}: open a new release for ref ",
                Code(ref),
                ".",
            )
        app = self.deps.config(release)
        before = await load_view(uow, app, release)
        await uow.releases.set_ref(release.id, ref, now)
        await uow.audit.append("release.ref", now, release.id, user, old=release.ref, new=ref)
        before, _ = await lapse(uow, app, before, now)  # an expiry before the move stays one
        off = moved_off(before, ref)  # asked for or granted on the old ref: they end
        if off:
            before, _ = await end_waivers(uow, app, before, WaiverState.REF_CHANGED, now, off)
        moved = before.changed(app, release=replace(release, ref=ref))
        view = await settle(uow, self.deps, moved, now, user)
        notice = RefMoved(user, release.name, ref, release.ref, signers(app, view.stale))
        await uow.outbox.enqueue(release.id, notice, now)
        return view.release

    async def review_config(self) -> int:
        """At start: releases whose signatures were given on another checklist are told once
        (per checklist version) which signatures went stale; returns how many were told."""
        told = 0
        async for page in view_pages(self.deps, PRE_DEPLOY):
            for view in page:
                told += await self._review(view)
        return told

    async def redraw(self, products: Collection[str]) -> int:
        """Cards of PRODUCTS' releases still in play are drawn again (a reload changed
        what they show: a title, a checklist, a role); returns how many."""
        drawn = 0
        live = (*PRE_DEPLOY, ReleaseState.DEPLOYED, ReleaseState.MONITORING)
        async for page in view_pages(self.deps, live):
            mine = [view for view in page if view.release.product in products]
            if mine:
                async with self.deps.db.write() as uow:
                    for view in mine:
                        await show(uow, self.deps, view)
                drawn += len(mine)
        return drawn

    async def _review(self, view: ReleaseView) -> int:
        now = self.deps.clock.now()
        stale = [s for s in view.stale if s.staleness.cause == "config"]
        if not stale:
            return 0
        app = self.deps.config(view.release)
        async with self.deps.db.write() as uow:
            if not await uow.marks.mark(view.release.id, STALE_CONFIG + app.version, now, now):
                return 0
            current = await load_view(uow, app, await load_release(uow, view.release.id))
            await settle(uow, self.deps, current, now, None)
            notice = ChecklistChanged(app.version, signers(app, stale))
            await uow.outbox.enqueue(view.release.id, notice, now)
        return 1

    async def adopt(self) -> int:
        """At start: releases from before products go to the product claiming their
        channel, else to the one product (which, from a single file, also takes those of a
        product renamed since). Returns how many were given."""
        catalog, given = self.catalog, 0
        async with self.deps.db.write() as uow:
            for product, app in catalog.products.items():
                if app.homes:
                    given += await uow.releases.adopt(product, [""], app.homes)
            only = catalog.only
            orphans = [p for p in await uow.releases.products() if p not in catalog.products]
            if catalog.directory:
                orphans = [p for p in orphans if p == ""]
            if only is not None and orphans:
                given += await uow.releases.adopt(only, orphans)
            held = await uow.releases.products()
            left = held.get("", 0)
        for product, n in sorted(held.items()):
            if product and product not in catalog.products:
                log.warning(
                    "%d release(s) of product %r wait: it is no longer configured (a "
                    "product's id is its file's name: was the file removed or renamed?)",
                    n,
                    product,
                )
        if left:
            log.warning(
                "%d release(s) from before products are in channels no product claims: give "
                "their channel to a product (channel: in its file) and reload to keep them",
                left,
            )
        return given

    async def resolve(
        self, name: str | None, channel: str | None, product: str | None = None
    ) -> Release:
        """A release by name (in PRODUCT, else the channel's product first, else the one
        product that has it), or the newest open one of this channel (then of its
        product, then of any)."""
        async with self.deps.db.read() as uow:
            return await resolve(uow, self.catalog, name, channel, product)

    async def resolve_view(
        self, name: str | None, channel: str | None, product: str | None = None
    ) -> ReleaseView:
        """`resolve`, then the release's view, in one read."""
        async with self.deps.db.read() as uow:
            release = await resolve(uow, self.catalog, name, channel, product)
            return await load_view(uow, self.deps.config(release), release)

    async def view(self, release_id: int) -> ReleaseView:
        async with self.deps.db.read() as uow:
            release = await load_release(uow, release_id)
            return await load_view(uow, self.deps.config(release), release)

    async def listing(
        self,
        states: Collection[ReleaseState] = PRE_DEPLOY,
        page: int = 1,
        size: int = LISTED,
        products: Sequence[str] | None = None,
    ) -> Listing:
        """One page of the releases in STATES (of PRODUCTS; None: of all), newest first
        (by product when several are listed), and how many there are."""
        catalog = self.catalog
        scope = list(products) if products is not None else list(catalog.products)
        async with self.deps.db.read() as uow:
            total = await uow.releases.count(sorted(states), scope)
            pages = max(1, -(-total // size))
            page = min(max(page, 1), pages)
            grouped = products is None and len(catalog) > 1
            found = await uow.releases.find(
                sorted(states),
                limit=size,
                offset=(page - 1) * size,
                products=scope,
                by_product=grouped,
            )
            views = [await load_view(uow, self.deps.config(release), release) for release in found]
        listed = None if products is None else tuple(products)
        return Listing(tuple(views), total, page, pages, frozenset(states), listed, grouped)

    async def count_by_state(self) -> dict[str, int]:
        async with self.deps.db.read() as uow:
            return await uow.releases.count_by_state()

    async def count_by_product_state(self) -> dict[tuple[str, str], int]:
        async with self.deps.db.read() as uow:
            return await uow.releases.count_by_product_state()

    async def check_cancel(self, release_id: int, user: str) -> Release:
        """Whether USER may cancel the release (raises why not)."""
        app = await self.deps.config_of(release_id)
        held = await memberships(app, user, self.deps.directory)
        async with self.deps.db.read() as uow:
            release = await load_release(uow, release_id)
        check_can_cancel(app, release, user, held)
        return release

    async def cancel(self, release_id: int, user: str) -> ReleaseView:
        app = await self.deps.config_of(release_id)
        held = await memberships(app, user, self.deps.directory)
        now = self.deps.clock.now()
        async with self.deps.db.write() as uow:
            release = await load_release(uow, release_id)
            check_can_cancel(app, release, user, held)
            before = await load_view(uow, app, release)
            await uow.releases.set_state(release.id, ReleaseState.CANCELLED, now, closed_by=user)
            await uow.audit.append("release.cancelled", now, release.id, user)
            await uow.outbox.enqueue(release.id, ReleaseCancelled(user, release.name), now)
            cancelled = replace(release, state=ReleaseState.CANCELLED, closed_by=user)
            view = before.changed(app, release=cancelled)
            await uow.waivers.touch_unanswered(release.id)
            await show(uow, self.deps, view)
        return view
