"""Marking an approved release deployed: post-deployment monitoring starts from that moment."""

from __future__ import annotations

from dataclasses import replace

from bot.domain.deployment import check_can_deploy
from bot.domain.model import ReleaseState
from bot.domain.notices import Deployed, PhasePlan
from bot.domain.view import ReleaseView
from bot.services.deps import Deps
from bot.services.membership import memberships
from bot.services.monitor import MonitorService
from bot.services.records import load_release, load_view, show
from checks.durations import format_duration


class DeployService:
    def __init__(self, deps: Deps, monitor: MonitorService) -> None:
        self.deps, self.monitor = deps, monitor

    async def mark_deployed(self, release_id: int, user: str) -> ReleaseView:
        """Refused with the reason unless the release is approved and the person a responder."""
        app = await self.deps.config_of(release_id)
        held = await memberships(app, user, self.deps.directory)
        return await self._deploy(release_id, user, held, via_api=False)

    async def mark_deployed_by_api(self, release_id: int, by: str) -> ReleaseView:
        """The deploy pipeline marks it deployed: the API token is its authority, as a
        responder's role is a person's; every other rule (approved, not yet deployed, not
        cancelled) holds. `by` names the pipeline in the thread and the audit log."""
        responders = frozenset((await self.deps.config_of(release_id)).responder_roles)
        return await self._deploy(release_id, by, responders, via_api=True)

    async def _deploy(
        self, release_id: int, user: str, held: frozenset[str], via_api: bool
    ) -> ReleaseView:
        app = await self.deps.config_of(release_id)
        now = self.deps.clock.now()
        async with self.deps.db.write() as uow:
            before = await load_view(uow, app, await load_release(uow, release_id))
            check_can_deploy(app, before, held)
            release = before.release
            await uow.releases.set_deployed(release.id, user, now)
            await uow.audit.append(
                "release.deployed", now, release.id, user, **({"via": "api"} if via_api else {})
            )
            state = ReleaseState.DEPLOYED
            if not app.post_deploy.phases:
                state = ReleaseState.DONE
                await uow.releases.set_state(release.id, state, now)
            phases = tuple(
                PhasePlan(p.title, format_duration(p.every)) for p in app.post_deploy.phases
            )
            notice = Deployed(release.name, user, via_api, phases)
            await uow.outbox.enqueue(release.id, notice, now)
            deployed = replace(release, state=state, deployed_at=now, deployed_by=user)
            view = before.changed(app, release=deployed)
            await uow.waivers.touch_unanswered(release.id)
            await show(uow, self.deps, view)
        self.deps.tasks.spawn(self.monitor.tick(), bounded=False)  # the first run, now
        return view
