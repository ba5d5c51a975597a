"""Opening, finding, listing and cancelling releases."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.exc import IntegrityError

from bot.config import AppConfig
from bot.db.repo import PendingCard, Repo
from bot.domain.authorization import parse_window
from bot.domain.errors import InvalidInput, InvalidState, NotFound
from bot.domain.model import PRE_DEPLOY, Release, ReleaseState
from bot.domain.signoff import StaleSignature, check_can_cancel
from bot.domain.view import ReleaseView
from bot.services.deps import Deps
from bot.services.membership import memberships
from bot.services.records import load_release, load_view, settle
from bot.text import clean, escape


def _signers(app: AppConfig, stale: Sequence[StaleSignature]) -> str:
    return ", ".join(
        f"<@{s.signature.user_id}> ({escape(app.roles[s.signature.role_id].title)})"
        for s in stale
        if s.signature.role_id in app.roles
    )


MAX_NAME = 80
MAX_REF = 200
_NAME = re.compile(r"^[\w .:/+@#-]+$")


@dataclass(frozen=True)
class Opened:
    release: Release
    created: bool
    moved_from: str | None = None  # an open release given a new ref: what it was


def check_name(raw: str) -> str:
    name = re.sub(r"\s+", " ", clean(raw))
    if not name:
        raise InvalidInput("Give the release a name, e.g. `/readiness new LUMINES 1.0.0`.")
    if len(name) > MAX_NAME:
        raise InvalidInput(f"Release names are at most {MAX_NAME} characters.")
    if not _NAME.match(name):
        raise InvalidInput(
            "Release names may use letters, digits, spaces and . : / + @ # - _ only."
        )
    return name


class ReleaseService:
    def __init__(self, deps: Deps) -> None:
        self.deps = deps

    @property
    def app(self):
        return self.deps.settings.app

    async def open(
        self, name: str, ref: str | None, user: str, channel: str, window: str | None = None
    ) -> Opened:
        """Open a release in the release channel (or this one when none is configured).

        `window` is a planned deployment window, `START/END` in ISO 8601 with a time zone;
        a bad one is refused before anything is recorded.
        """
        name = check_name(name)
        ref = clean(ref)[:MAX_REF] or None if ref else None
        home = self.app.channel or channel
        now = self.deps.clock.now()
        planned = parse_window(clean(window), now) if window is not None else None
        try:
            async with self.deps.db.write() as repo:
                existing = await repo.release_by_name(name)
                if existing is not None and existing.state is not ReleaseState.CANCELLED:
                    if ref is None or ref == existing.ref:
                        return Opened(existing, created=False)
                    moved = await self._move(repo, existing, ref, user, now)
                    return Opened(moved, created=False, moved_from=existing.ref or "none")
                release = await repo.add_release(name, home, ref, user, now, self.app.version)
                planning: dict[str, list[str]] = {}
                if planned is not None:
                    await repo.plan_window(release.id, *planned, now)
                    release = await load_release(repo, release.id)
                    planning = {"window": [at.isoformat() for at in planned]}
                await repo.audit(
                    "release.opened",
                    now,
                    release.id,
                    user,
                    name=name,
                    ref=ref,
                    channel=home,
                    config_version=self.app.version,
                    **planning,
                )
        except IntegrityError:  # opened by someone else a moment ago
            async with self.deps.db.read() as repo:
                existing = await repo.release_by_name(name)
            if existing is None:
                raise
            return Opened(existing, created=False)
        self.deps.outbox_ready.set()
        return Opened(release, created=True)

    async def _move(
        self, repo: Repo, release: Release, ref: str, user: str, now: datetime
    ) -> Release:
        """A new ref for a release still being signed: the signatures given on the old one
        go stale (per role's `stale_on`); the thread says whose and why."""
        if release.state not in PRE_DEPLOY:
            raise InvalidState(
                f"{escape(release.name)} is {release.state.value}: open a new release for "
                f"ref `{escape(ref)}`."
            )
        await repo.set_ref(release.id, ref, now)
        await repo.audit("release.ref", now, release.id, user, old=release.ref, new=ref)
        moved = await load_release(repo, release.id)
        view = await settle(repo, self.app, moved, now, user)
        text = (
            f":arrows_counterclockwise: <@{user}> moved *{escape(release.name)}* to ref "
            f"`{escape(ref)}` (was `{escape(release.ref or 'none')}`); the checks run again."
        )
        if view.stale:
            text += "\nThese signatures were given on the old ref and must be given again: "
            text += _signers(self.app, view.stale)
        await repo.enqueue(release.id, text, now)
        return await load_release(repo, release.id)

    async def review_config(self) -> int:
        """At start: releases whose signatures were given on another checklist are told once
        (per checklist version) which signatures went stale; returns how many were told."""
        now = self.deps.clock.now()
        told = 0
        for view in await self.active():
            stale = [s for s in view.stale if "checklist changed" in s.reason]
            if not stale:
                continue
            async with self.deps.db.write() as repo:
                key = f"stale-config:{self.app.version}"
                if not await repo.mark(view.release.id, key, now, now):
                    continue
                await settle(repo, self.app, view.release, now, None)
                await repo.enqueue(
                    view.release.id,
                    ":arrows_counterclockwise: The checklist changed (version "
                    f"`{self.app.version}`); these signatures were given on the previous one "
                    "and must be given again: " + _signers(self.app, stale),
                    now,
                )
                told += 1
        if told:
            self.deps.outbox_ready.set()
        return told

    async def resolve(self, name: str | None, channel: str | None) -> Release:
        """A release by name, or the newest open one of this channel (then of any channel)."""
        async with self.deps.db.read() as repo:
            return await _resolve(repo, name, channel)

    async def resolve_view(self, name: str | None, channel: str | None) -> ReleaseView:
        """`resolve`, then the release's view, in one read."""
        async with self.deps.db.read() as repo:
            return await load_view(repo, self.app, await _resolve(repo, name, channel))

    async def view(self, release_id: int) -> ReleaseView:
        async with self.deps.db.read() as repo:
            return await load_view(repo, self.app, await load_release(repo, release_id))

    async def card(self, release_id: int) -> tuple[ReleaseView, int]:
        """The view and the card version it reflects, read together."""
        async with self.deps.db.read() as repo:
            release = await load_release(repo, release_id)
            pending = {p.release_id: p.version for p in await repo.pending_cards()}
            view = await load_view(repo, self.app, release)
        return view, pending.get(release_id, 0)

    async def pending_cards(self) -> list[PendingCard]:
        async with self.deps.db.read() as repo:
            return await repo.pending_cards()

    async def active(self) -> list[ReleaseView]:
        async with self.deps.db.read() as repo:
            releases = await repo.releases(sorted(PRE_DEPLOY), limit=20)
            return [await load_view(repo, self.app, release) for release in releases]

    async def cancel(self, release_id: int, user: str) -> ReleaseView:
        held = await memberships(self.app, user, self.deps.directory)
        now = self.deps.clock.now()
        async with self.deps.db.write() as repo:
            release = await load_release(repo, release_id)
            check_can_cancel(self.app, release, user, held)
            await repo.set_state(release.id, ReleaseState.CANCELLED, now, closed_by=user)
            await repo.audit("release.cancelled", now, release.id, user)
            await repo.touch_card(release.id)
            await repo.enqueue(
                release.id, f":x: <@{user}> cancelled *{escape(release.name)}*.", now
            )
            view = await load_view(repo, self.app, await load_release(repo, release.id))
        self.deps.outbox_ready.set()
        return view

    async def ensure_open(self, release: Release) -> None:
        if release.state not in PRE_DEPLOY:
            raise InvalidState(f"{escape(release.name)} is {release.state.value}.")

    async def settle(self, release_id: int, actor: str | None) -> ReleaseView:
        """Re-derive state after new facts (check results) arrived."""
        now = self.deps.clock.now()
        async with self.deps.db.write() as repo:
            view = await settle(repo, self.app, await load_release(repo, release_id), now, actor)
        self.deps.outbox_ready.set()
        return view


async def _resolve(repo: Repo, name: str | None, channel: str | None) -> Release:
    if name:
        release = await repo.release_by_name(clean(name))
        if release is None:
            raise NotFound(
                f"There is no release named “{escape(clean(name))}”. "
                "`/readiness list` shows the open ones."
            )
        return release
    release = await repo.newest_active(channel) or await repo.newest_active(None)
    if release is None:
        raise NotFound("No release is open. Open one with `/readiness new NAME`.")
    return release
