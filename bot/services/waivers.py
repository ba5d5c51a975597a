"""Waivers: asked for by an approver, answered by another, ended by time, grantor or ref.

Each change is one transaction: the waiver's row (changed only from the state it was read
in, so two replicas answering at once change it once), its audit event, its notice in the
thread, and the release's state settled on what now counts.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Literal, cast

from bot.db import UnitOfWork
from bot.domain.checklist import AppConfig
from bot.domain.errors import Conflict, InvalidState
from bot.domain.notices import WaiverAnswered, WaiverEndedNotice
from bot.domain.view import ReleaseView
from bot.domain.waiver_rules import (
    check_can_answer,
    check_can_request,
    check_can_withdraw,
    expiry,
    find_waiver,
    parse_for,
    request_notice,
)
from bot.domain.waivers import Waiver, WaiverState
from bot.services.deps import Service
from bot.services.membership import memberships
from bot.services.records import load_release, load_view, seen_by, settle, signers
from checks.durations import format_duration

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Answered:
    view: ReleaseView
    waiver: Waiver  # as it now stands


def _status(view: ReleaseView, item_id: str) -> str:
    """The item's latest result, as the thread says it when a waiver ends."""
    found = next((v for v in view.readiness.items if v.item.id == item_id), None)
    if found is None:
        return ""
    return found.status.value if found.reason is None else f"{found.status.value}: {found.reason}"


async def end_waivers(
    uow: UnitOfWork,
    app: AppConfig,
    view: ReleaseView,
    how: WaiverState,
    now: datetime,
    ending: list[Waiver],
    user: str | None = None,
) -> tuple[ReleaseView, int]:
    """End each waiver of ENDING as HOW (once: one another transaction ended is skipped),
    audited and told in the thread: the view with those waivers ended (not yet settled),
    and how many this call ended."""
    release = view.release
    ended: dict[int, Waiver] = {}
    for waiver in ending:
        if not waiver.state.open:
            continue  # ended already
        at = waiver.expires_at if how is WaiverState.EXPIRED and waiver.expires_at else now
        if not await uow.waivers.end(waiver, how, at, user):
            continue
        was_granted = waiver.state is WaiverState.GRANTED
        ended[waiver.id] = replace(waiver, state=how, ended_at=at, ended_by=user)
        await uow.audit.append(
            f"waiver.{how.value}",
            now,
            release.id,
            user,
            waiver_id=waiver.id,
            item=waiver.item_id,
            was=waiver.state.value,
        )
        if was_granted and release.state.active:  # once shipped, it is history
            title = app.title_of(waiver.item_id)
            after = view.changed(app, waivers=tuple(ended.get(w.id, w) for w in view.waivers))
            said = cast(Literal["expired", "withdrawn", "ref_changed"], how.value)
            notice = WaiverEndedNotice(title, said, user, _status(after, waiver.item_id))
            await uow.outbox.enqueue(release.id, notice, now)
    if not ended:
        return view, 0
    waivers = tuple(ended.get(w.id, w) for w in view.waivers)
    return view.changed(app, waivers=waivers), len(ended)


def moved_off(view: ReleaseView, ref: str | None) -> list[Waiver]:
    """The open waivers asked for on another ref than REF."""
    return [w for w in view.waivers if w.state.open and w.ref != ref]


async def lapse(
    uow: UnitOfWork, app: AppConfig, view: ReleaseView, now: datetime
) -> tuple[ReleaseView, int]:
    """Record the waivers of VIEW whose expiry has come (as expired, at their expiry)."""
    due = [
        w
        for w in view.waivers
        if w.state is WaiverState.GRANTED and w.ending(now, view.release.ref) is WaiverState.EXPIRED
    ]
    if not due:
        return view, 0
    return await end_waivers(uow, app, view, WaiverState.EXPIRED, now, due)


class WaiverService(Service):
    async def check_request(self, release_id: int, item_id: str, user: str) -> ReleaseView:
        """May this person ask to waive the item? (Asked before the form opens.)"""
        app, held, view = await seen_by(self.deps, release_id, user)
        check_can_request(app, view, item_id, held, app.waivers.max, None)
        return view

    async def request(
        self,
        release_id: int,
        item_id: str,
        user: str,
        duration: str | timedelta | None,
        reason: str | None,
    ) -> Answered:
        """Record the request and post it in the card's thread, for an approver to answer."""
        app = await self.deps.config_of(release_id)
        lasts = duration if isinstance(duration, timedelta) else parse_for(duration, app)
        held = await memberships(app, user, self.deps.directory)
        now = self.deps.clock.now()
        try:
            async with self.deps.db.write() as uow:
                view = await load_view(uow, app, await load_release(uow, release_id))
                view, _ = await lapse(uow, app, view, now)
                ask = check_can_request(app, view, item_id, held, lasts, reason)
                release = view.release
                waiver = await uow.waivers.request(
                    release.id, item_id, ask.item.title, release.ref, user, ask.reason, lasts, now
                )
                await uow.audit.append(
                    "waiver.requested",
                    now,
                    release.id,
                    user,
                    waiver_id=waiver.id,
                    item=item_id,
                    duration=format_duration(lasts),
                    reason=ask.reason,
                )
                notice = request_notice(app, release.id, waiver)
                await uow.outbox.enqueue(release.id, notice, now)
                after = view.changed(app, waivers=(*view.waivers, waiver))
                return Answered(await settle(uow, self.deps, after, now, user), waiver)
        except Conflict:
            raise InvalidState("A waiver of that item was asked for a moment ago.") from None

    async def check_answer(self, release_id: int, waiver_id: int, user: str) -> Answered:
        """May this person answer the request? (Asked before the denial's form opens.)"""
        app, held, view = await seen_by(self.deps, release_id, user)
        waiver = find_waiver(view, waiver_id)
        check_can_answer(app, view, waiver, user, held, grant=False, reason=None)
        return Answered(view, waiver)

    async def answer(
        self,
        release_id: int,
        waiver_id: int,
        user: str,
        grant: bool,
        reason: str | None = None,
    ) -> Answered:
        """Grant the waiver (it counts from now for its duration) or deny it (REASON)."""
        app = await self.deps.config_of(release_id)
        held = await memberships(app, user, self.deps.directory)
        now = self.deps.clock.now()
        async with self.deps.db.write() as uow:
            view = await load_view(uow, app, await load_release(uow, release_id))
            waiver = find_waiver(view, waiver_id)
            said = check_can_answer(app, view, waiver, user, held, grant, reason or "")
            release = view.release
            if grant:
                until = expiry(now, waiver)
                done = await uow.waivers.grant(waiver.id, user, now, until)
                answered = replace(waiver, state=WaiverState.GRANTED, expires_at=until)
            else:
                done = await uow.waivers.deny(waiver.id, user, said or "", now)
                answered = replace(waiver, state=WaiverState.DENIED, denial=said)
            if not done:
                raise InvalidState("That waiver was answered a moment ago.")
            answered = replace(answered, decided_by=user, decided_at=now)
            await uow.audit.append(
                "waiver.granted" if grant else "waiver.denied",
                now,
                release.id,
                user,
                waiver_id=waiver.id,
                item=waiver.item_id,
                **({"until": answered.expires_at.isoformat()} if answered.expires_at else {}),
                **({"reason": said} if not grant else {}),
            )
            waivers = tuple(answered if w.id == waiver.id else w for w in view.waivers)
            after = view.changed(app, waivers=waivers)
            was_stale = {s.signature.id for s in view.stale}
            newly = [s for s in after.stale if s.signature.id not in was_stale]
            notice = WaiverAnswered(
                user,
                waiver.requested_by,
                app.title_of(waiver.item_id),
                grant,
                answered.expires_at,
                said,
                signers(app, newly),
            )
            await uow.outbox.enqueue(release.id, notice, now)
            return Answered(await settle(uow, self.deps, after, now, user), answered)

    async def withdraw(self, release_id: int, waiver_id: int, user: str) -> ReleaseView:
        """Its grantor ends a waiver in force: the item counts by its result again."""
        app = await self.deps.config_of(release_id)
        now = self.deps.clock.now()
        async with self.deps.db.write() as uow:
            view = await load_view(uow, app, await load_release(uow, release_id))
            waiver = find_waiver(view, waiver_id)
            check_can_withdraw(view, waiver, user)
            how = WaiverState.WITHDRAWN
            after, ended = await end_waivers(uow, app, view, how, now, [waiver], user)
            if not ended:
                raise InvalidState("That waiver ended a moment ago.")
            return await settle(uow, self.deps, after, now, user)

    async def expire(self) -> int:
        """Record the waivers whose expiry has come, and settle their releases (an approved
        one whose item fails is suspended). Called on every tick; returns how many ended."""
        now = self.deps.clock.now()
        async with self.deps.db.read() as uow:
            lapsed = await uow.waivers.lapsed(now)
        ended = 0
        for release_id in dict.fromkeys(r for r, _ in lapsed):
            try:
                ended += await self._expire(release_id, now)
            except Exception:
                log.exception("ending the waivers of release %s failed", release_id)
        return ended

    async def _expire(self, release_id: int, now: datetime) -> int:
        app = await self.deps.config_of(release_id)
        async with self.deps.db.write() as uow:
            view = await load_view(uow, app, await load_release(uow, release_id))
            after, ended = await lapse(uow, app, view, now)
            if ended:  # else another replica recorded them
                await settle(uow, self.deps, after, now, None)
            return ended
