"""Change freezes: which cover now and come next, and the final role's exception that lets
one release deploy during one."""

from __future__ import annotations

from dataclasses import dataclass

from bot.domain.checklist import AppConfig
from bot.domain.errors import Conflict, InvalidState
from bot.domain.freeze_rules import check_can_except
from bot.domain.freezes import FreezeWindow, current, upcoming
from bot.domain.view import ReleaseView
from bot.services.deps import Service
from bot.services.membership import memberships
from bot.services.records import load_release, load_view, settle


@dataclass(frozen=True)
class FreezeList:
    current: list[FreezeWindow]
    upcoming: list[FreezeWindow]  # each freeze's next occurrence, soonest first


class FreezeService(Service):
    def listing(self, app: AppConfig) -> FreezeList:
        """The product's freezes covering now, and each one's next occurrence."""
        now = self.deps.clock.now()
        return FreezeList(current(app.freezes, now), upcoming(app.freezes, now))

    async def check_except(self, release_id: int, user: str) -> ReleaseView:
        """May this person grant an exception now? (Asked before the reason modal opens.)"""
        app = await self.deps.config_of(release_id)
        held = await memberships(app, user, self.deps.directory)
        async with self.deps.db.read() as uow:
            view = await load_view(uow, app, await load_release(uow, release_id))
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
