"""Change freezes: which cover now and come next, and the final role's exception that lets
one release deploy during one."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.domain.checklist import AppConfig
from bot.domain.errors import Conflict, InvalidState
from bot.domain.freeze_rules import check_can_except
from bot.domain.freezes import FreezeWindow, current, edges, upcoming
from bot.domain.model import PRE_DEPLOY
from bot.domain.view import ReleaseView
from bot.services.deps import Deps, Service
from bot.services.membership import memberships
from bot.services.records import load_release, load_view, pages, seen_by, settle, show

LOOKBACK = timedelta(hours=1)  # freeze edges looked for behind now (a restart's gap)


@dataclass(frozen=True)
class FreezeList:
    current: list[FreezeWindow]
    upcoming: list[FreezeWindow]  # each freeze's next occurrence, soonest first


class FreezeService(Service):
    def __init__(self, deps: Deps) -> None:
        super().__init__(deps)
        self._drawn: set[tuple[str, str, datetime]] = set()  # freeze edges seen to here

    def listing(self, app: AppConfig) -> FreezeList:
        """The product's freezes covering now, and each one's next occurrence."""
        now = self.deps.clock.now()
        return FreezeList(current(app.freezes, now), upcoming(app.freezes, now))

    async def check_except(self, release_id: int, user: str) -> ReleaseView:
        """May this person grant an exception now? (Asked before the reason modal opens.)"""
        app, held, view = await seen_by(self.deps, release_id, user)
        check_can_except(app, view, held, None, self.deps.clock.now())
        return view

    async def grant(self, release_id: int, user: str, reason: str) -> ReleaseView:
        """The release may deploy during each freeze holding it now, until that freeze ends."""
        app = await self.deps.config_of(release_id)
        held = await memberships(app, user, self.deps.directory)
        now = self.deps.clock.now()
        try:
            async with self.deps.db.write() as uow:
                before = await load_view(uow, app, await load_release(uow, release_id))
                frozen, said = check_can_except(app, before, held, reason, now)
                release = before.release
                granted = []
                for hold in frozen:
                    granted.append(await uow.freezes.grant(release.id, hold, user, said, now))
                    await uow.audit.append(
                        "freeze.excepted",
                        now,
                        release.id,
                        user,
                        freeze=hold.freeze_id,
                        until=hold.until.isoformat(),
                        reason=said,
                    )
                assert before.facts is not None
                after = before.changed(app, exceptions=(*before.facts.exceptions, *granted))
                return await settle(uow, self.deps, after, now, user)
        except Conflict:
            raise InvalidState("That exception was granted a moment ago.") from None

    async def redraw_at_edges(self) -> int:
        """Redraw the card of each release before deployment once a freeze of its product
        started or ended (once per release and edge, a mark, on whichever replica comes
        first); returns how many cards. Called on every scheduler tick: an edge this
        replica has seen to is not looked at again."""
        now = self.deps.clock.now()
        seen = self._drawn
        due = {
            product: fresh
            for product, app in self.catalog.products.items()
            if app.freezes
            and (
                fresh := [
                    f"freeze-edge:{freeze_id}:{at.isoformat()}"
                    for freeze_id, at in edges(app.freezes, now - LOOKBACK, now)
                    if (product, freeze_id, at) not in seen
                ]
            )
        }
        if not due:
            return 0
        redrawn = 0
        async for page in pages(self.deps, PRE_DEPLOY):
            for listed in page:
                for key in due.get(listed.product, []):
                    async with self.deps.db.write() as uow:
                        if not await uow.marks.mark(listed.id, key, now, now):
                            continue
                        app = self.deps.config(listed)
                        release = await load_release(uow, listed.id)
                        await show(uow, self.deps, await load_view(uow, app, release))
                        redrawn += 1
        for product, app in self.catalog.products.items():
            if product in due:
                seen.update((product, f, at) for f, at in edges(app.freezes, now - LOOKBACK, now))
        return redrawn
