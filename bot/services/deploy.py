"""Marking an approved release deployed: post-deployment monitoring starts from that moment."""

from __future__ import annotations

from bot.domain.deployment import check_can_deploy
from bot.domain.model import ReleaseState
from bot.domain.monitoring import timeline
from bot.domain.view import ReleaseView
from bot.services.deps import Deps
from bot.services.membership import memberships
from bot.services.monitor import MonitorService
from bot.services.records import load_release, load_view
from bot.text import escape
from checks.durations import format_duration


class DeployService:
    def __init__(self, deps: Deps, monitor: MonitorService) -> None:
        self.deps, self.monitor = deps, monitor

    async def mark_deployed(self, release_id: int, user: str) -> ReleaseView:
        """Refused with the reason unless the release is approved and the person a responder."""
        held = await memberships(self.deps.settings.app, user, self.deps.directory)
        return await self._deploy(release_id, user, held, via_api=False)

    async def mark_deployed_by_api(self, release_id: int, by: str) -> ReleaseView:
        """The deploy pipeline marks it deployed: the API token is its authority, as a
        responder's role is a person's; every other rule (approved, not yet deployed, not
        cancelled) holds. `by` names the pipeline in the thread and the audit log."""
        responders = frozenset(self.deps.settings.app.responder_roles)
        return await self._deploy(release_id, by, responders, via_api=True)

    async def _deploy(
        self, release_id: int, user: str, held: frozenset[str], via_api: bool
    ) -> ReleaseView:
        app = self.deps.settings.app
        now = self.deps.clock.now()
        async with self.deps.db.write() as repo:
            release = await load_release(repo, release_id)
            check_can_deploy(app, await load_view(repo, app, release), held)
            await repo.set_deployed(release.id, user, now)
            await repo.audit(
                "release.deployed", now, release.id, user, **({"via": "api"} if via_api else {})
            )
            phases = timeline(app.post_deploy.phases, now)
            if phases:
                plan = ", ".join(
                    f"{w.phase.title} (every {format_duration(w.phase.every)})" for w in phases
                )
                follow = f" Post-deployment monitoring starts: {plan}."
            else:
                await repo.set_state(release.id, ReleaseState.DONE, now)
                follow = ""
            said = (
                f":rocket: *{escape(release.name)}* marked deployed via the API "
                f"(by {escape(user)}).{follow}"
                if via_api
                else f":rocket: <@{user}> marked *{escape(release.name)}* deployed.{follow}"
            )
            await repo.enqueue(release.id, said, now)
            view = await load_view(repo, app, await load_release(repo, release.id))
        self.deps.outbox_ready.set()
        self.deps.tasks.spawn(self.monitor.tick(), bounded=False)  # the first run, now
        return view
