"""Running a release's automated checks and recording each result as it lands."""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable
from typing import Any

from bot.config import AppConfig
from bot.domain.errors import InvalidInput, InvalidState
from bot.domain.model import PRE_DEPLOY, ItemStatus
from bot.domain.view import ReleaseView
from bot.services.deps import Deps
from bot.services.records import load_release, settle
from checks import CheckContext, CheckJob, CheckResult, run_checks

log = logging.getLogger(__name__)


def check_jobs(app: AppConfig, section: str | None = None) -> list[CheckJob]:
    """The automated items of the checklist (or of one section), in order."""
    return [
        CheckJob(item.id, item.check)
        for s in app.sections
        if section in (None, s.id)
        for item in s.items
        if item.check is not None
    ]


class CheckService:
    def __init__(self, deps: Deps) -> None:
        self.deps = deps
        self._running: set[int] = set()

    def jobs(self, section: str | None = None) -> list[CheckJob]:
        return check_jobs(self.deps.settings.app, section)

    async def start(
        self, release_id: int, trigger: str, actor: str | None, section: str | None = None
    ) -> int | None:
        """Start a run in the background; returns how many checks it runs.

        A release has at most one run in flight: asking again while it runs returns None.
        """
        begun = await self._begin(release_id, trigger, actor, section)
        if begun is None:
            return None
        run_id, jobs = begun
        if jobs:
            self.deps.tasks.spawn(self._run(release_id, run_id, jobs, actor), bounded=False)
        return len(jobs)

    async def run(
        self,
        release_id: int,
        trigger: str,
        actor: str | None,
        section: str | None = None,
        on_result: Callable[[CheckResult], None] | None = None,
    ) -> int | None:
        """Run in the foreground (the terminal), recording results as `start` does; returns
        how many checks ran, or None when a run of this release is already in flight."""
        begun = await self._begin(release_id, trigger, actor, section)
        if begun is None:
            return None
        run_id, jobs = begun
        if jobs:
            await self._run(release_id, run_id, jobs, actor, on_result)
        return len(jobs)

    async def record_external(
        self,
        release_id: int,
        item_id: str,
        status: ItemStatus,
        reason: str,
        values: dict[str, Any],
        actor: str,
    ) -> ReleaseView:
        """A result CI ran for an automated item: recorded as a check result (no run),
        audited, and the release settled on it, so it may suspend or restore an approval.
        The next run of that item's own check replaces it, as any newer result does."""
        app = self.deps.settings.app
        item = next((i for i in app.items if i.id == item_id), None)
        if item is None:
            raise InvalidInput(f"There is no checklist item {item_id!r}.")
        if not item.automated:
            raise InvalidInput(
                f"“{item.title}” ({item.id}) is ticked by a person; results are recorded "
                "for automated items only."
            )
        if status is ItemStatus.PENDING:
            raise InvalidInput("A result is pass, fail or error.")
        now = self.deps.clock.now()
        async with self.deps.db.write() as repo:
            release = await load_release(repo, release_id)
            if release.state not in PRE_DEPLOY:
                raise InvalidState(
                    f"{release.name} is {release.state.value}: its checklist is no longer checked."
                )
            await repo.add_result(release.id, None, item.id, status.value, reason, values, 0.0, now)
            await repo.audit(
                "checks.external",
                now,
                release.id,
                actor,
                item=item.id,
                status=status.value,
                reason=reason,
                url=values.get("url"),
            )
            view = await settle(repo, app, release, now, actor)
        self.deps.outbox_ready.set()
        return view

    async def _begin(
        self, release_id: int, trigger: str, actor: str | None, section: str | None
    ) -> tuple[int, list[CheckJob]] | None:
        if release_id in self._running:
            return None
        jobs = self.jobs(section)
        now = self.deps.clock.now()
        self._running.add(release_id)  # before any await: a second ask sees it at once
        try:
            async with self.deps.db.write() as repo:
                release = await load_release(repo, release_id)
                if release.state not in PRE_DEPLOY:
                    raise InvalidState(
                        f"{release.name} is {release.state.value}: "
                        "its checklist is no longer checked."
                    )
                if not jobs:
                    self._running.discard(release_id)
                    return 0, []
                run_id = await repo.start_run(release.id, trigger, actor, len(jobs), now)
                await repo.touch_card(release.id)
        except BaseException:
            self._running.discard(release_id)
            raise
        self.deps.outbox_ready.set()
        return run_id, jobs

    async def _run(
        self,
        release_id: int,
        run_id: int,
        jobs: list[CheckJob],
        actor: str | None,
        on_result: Callable[[CheckResult], None] | None = None,
    ) -> None:
        settings = self.deps.settings
        ctx = CheckContext(self.deps.http, environ=settings.environ)
        counts: Counter[str] = Counter()
        types = {job.key: job.params.type for job in jobs}
        try:
            async for result in run_checks(
                jobs, settings.registry, ctx, settings.app.checks.concurrency
            ):
                counts[result.status.value] += 1
                self.deps.metrics.check(
                    types[result.key], result.status.value, result.duration_ms / 1000
                )
                async with self.deps.db.write() as repo:
                    await repo.add_result(
                        release_id,
                        run_id,
                        result.key,
                        result.status.value,
                        result.reason,
                        result.values,
                        result.duration_ms,
                        self.deps.clock.now(),
                    )
                    await repo.touch_card(release_id)
                self.deps.outbox_ready.set()
                if on_result is not None:
                    on_result(result)
        finally:
            self._running.discard(release_id)
            now = self.deps.clock.now()
            async with self.deps.db.write() as repo:
                await repo.finish_run(run_id, now)
                await repo.audit(
                    "checks.run", now, release_id, actor, run_id=run_id, **dict(counts)
                )
                await settle(repo, settings.app, await load_release(repo, release_id), now, actor)
            self.deps.outbox_ready.set()
            log.info("check run %s of release %s finished: %s", run_id, release_id, dict(counts))
