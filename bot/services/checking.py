"""Running a release's automated checks and recording each result as it lands."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
from collections import Counter
from collections.abc import AsyncGenerator, Callable, Sequence
from typing import Any

from bot.db.coordination import TakenRun
from bot.domain.checklist import AppConfig
from bot.domain.errors import DomainError, InvalidInput, InvalidState
from bot.domain.model import PRE_DEPLOY, ItemStatus, LatestResult, Release
from bot.domain.readiness import Readiness, assess
from bot.domain.view import ReleaseView
from bot.services import leases
from bot.services.deps import Deps, Service
from bot.services.records import load_release, load_view, pages, settle
from checks import CheckContext, CheckJob, CheckResult, run_checks

log = logging.getLogger(__name__)
RECHECK_AT_ONCE = 4  # releases whose checks a scheduled re-check runs at the same time

OnResult = Callable[[CheckResult], None]


def check_jobs(app: AppConfig, section: str | None = None) -> list[CheckJob]:
    """The automated items of the checklist (or of one section), in order."""
    return [
        CheckJob(item.id, item.check)
        for s in app.sections
        if section in (None, s.id)
        for item in s.items
        if item.check is not None
    ]


async def results(
    deps: Deps, product: str, jobs: Sequence[CheckJob]
) -> AsyncGenerator[CheckResult, None]:
    """Run PRODUCT's JOBS as the settings say (the shared client, the concurrency),
    counting each result in /metrics; yields each result as it lands, its reason in its
    item's words (numbers in the item's unit)."""
    settings = deps.settings
    app = settings.catalog.config(product)
    ctx = CheckContext(deps.http, environ=settings.environ)
    types = {job.key: job.params.type for job in jobs}
    concurrency = settings.catalog.bot.checks.concurrency
    async for result in run_checks(jobs, settings.registry, ctx, concurrency):
        seconds = result.duration_ms / 1000
        deps.metrics.check(product, types[result.key], result.status.value, seconds)
        item = app.item(result.key)
        if item is not None:
            said = item.reads(result.status.value, result.reason, result.values)
            result = dataclasses.replace(result, reason=said)
        yield result


def _not_checked(state_of: str, name: str) -> InvalidState:
    return InvalidState(f"{name} is {state_of}: its checklist is no longer checked.")


class CheckService(Service):
    def __init__(self, deps: Deps) -> None:
        super().__init__(deps)
        self._running: set[int] = set()  # releases with a run in flight

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
        on_result: OnResult | None = None,
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

    async def recheck(self, product: str | None = None) -> int:
        """Run the checks of every release of PRODUCT (None: of every product) still
        before deployment again, a few releases at a time, each run to its end before the
        next ones start (so the acks of Slack's requests meanwhile never wait behind
        thousands of checks); returns how many runs ran. A release whose run is already in
        flight is left to it."""
        ran = 0
        async for found in pages(self.deps, PRE_DEPLOY):
            products = self.catalog.products
            page = [r for r in found if r.product in products and product in (None, r.product)]
            for at in range(0, len(page), RECHECK_AT_ONCE):
                batch = page[at : at + RECHECK_AT_ONCE]
                ran += sum(await asyncio.gather(*(self._recheck(r) for r in batch)))
        return ran

    async def _recheck(self, release: Release) -> int:
        try:
            return 1 if await self.run(release.id, "schedule", None) else 0
        except DomainError as exc:  # cancelled or deployed since the page was read
            log.info("scheduled re-check of %s skipped: %s", release.name, exc)
            return 0

    async def evaluate(
        self, product: str, section: str | None, on_result: OnResult | None = None
    ) -> Readiness:
        """Run a product's checks with no release: nothing is recorded, manual items
        count as not ticked. What a CI job asks before a release exists."""
        app = self.catalog.config(product)
        latest: dict[str, LatestResult] = {}
        async for result in results(self.deps, product, check_jobs(app, section)):
            status = ItemStatus(result.status.value)
            latest[result.key] = LatestResult(
                result.key, status, result.reason, self.deps.clock.now(), result.duration_ms
            )
            if on_result is not None:
                on_result(result)
        return assess(app, latest, {})

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
        app = await self.deps.config_of(release_id)
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
        async with self.deps.db.write() as uow:
            release = await load_release(uow, release_id)
            if release.state not in PRE_DEPLOY:
                raise _not_checked(release.state.value, release.name)
            before = await load_view(uow, app, release)
            latest = await uow.checks.add_result(
                release.id, None, item.id, status.value, reason, values, 0.0, now
            )
            await uow.audit.append(
                "checks.external",
                now,
                release.id,
                actor,
                item=item.id,
                status=status.value,
                reason=reason,
                url=values.get("url"),
            )
            assert before.facts is not None
            after = before.changed(app, results={**before.facts.results, item.id: latest})
            return await settle(uow, self.deps, after, now, actor)

    async def _begin(
        self, release_id: int, trigger: str, actor: str | None, section: str | None
    ) -> tuple[int, list[CheckJob]] | None:
        if release_id in self._running:
            return None
        jobs = check_jobs(await self.deps.config_of(release_id), section)
        now = self.deps.clock.now()
        self._running.add(release_id)  # before any await: a second ask sees it at once
        try:
            async with self.deps.db.write() as uow:
                release = await load_release(uow, release_id)
                if release.state not in PRE_DEPLOY:
                    raise _not_checked(release.state.value, release.name)
                if not jobs:
                    self._running.discard(release_id)
                    return 0, []
                run_id = await uow.checks.start_run(release.id, trigger, actor, len(jobs), now)
                await uow.coordination.own_run(
                    run_id, self.deps.replica, leases.lease_of(self.deps), section
                )
                await uow.releases.touch_card(release.id)
        except BaseException:
            self._running.discard(release_id)
            raise
        return run_id, jobs

    async def _run(
        self,
        release_id: int,
        run_id: int,
        jobs: list[CheckJob],
        actor: str | None,
        on_result: OnResult | None = None,
        recorded: Counter[str] | None = None,
    ) -> None:
        """Run JOBS as run RUN_ID of the release, held under its lease, and finish it.
        RECORDED: the statuses of its results so far (a run taken over)."""
        counts: Counter[str] = Counter(recorded or {})
        stopping = False
        try:
            product = self.deps.products[release_id]  # read by _begin
            async with (
                leases.renewing(self.deps, run_id),
                contextlib.aclosing(results(self.deps, product, jobs)) as landing,
            ):
                async for result in landing:
                    async with self.deps.db.write() as uow:
                        if not await leases.renew(uow, self.deps, run_id):
                            break  # taken over: the replica that has it records the rest
                        await uow.checks.add_result(
                            release_id,
                            run_id,
                            result.key,
                            result.status.value,
                            result.reason,
                            result.values,
                            result.duration_ms,
                            self.deps.clock.now(),
                        )
                        await uow.releases.touch_card(release_id)
                    counts[result.status.value] += 1
                    if on_result is not None:
                        on_result(result)
        except asyncio.CancelledError:
            stopping = leases.handing_over(self.deps)  # another replica carries it on
            raise
        finally:
            self._running.discard(release_id)
            if stopping:
                await leases.hand_over(self.deps, run_id)
            else:
                await self._finish(release_id, run_id, actor, counts, taken=recorded is not None)

    async def _finish(
        self, release_id: int, run_id: int, actor: str | None, counts: Counter[str], taken: bool
    ) -> None:
        now = self.deps.clock.now()
        async with self.deps.db.write() as uow:
            finished = await leases.finish(uow, self.deps, run_id)
            if finished:
                over = {"taken_over": True} if taken else {}
                await uow.audit.append(
                    "checks.run", now, release_id, actor, run_id=run_id, **counts, **over
                )
                release = await load_release(uow, release_id)
                view = await load_view(uow, self.deps.config(release), release)
                await settle(uow, self.deps, view, now, actor)
        if finished:
            log.info("check run %s of release %s finished: %s", run_id, release_id, dict(counts))

    # --- runs whose replica died ------------------------------------------------------------

    async def resume(self) -> int:
        """Runs of a checklist whose replica stopped renewing them (it died mid-run): taken
        over here, each finished in the background with the items it has no result for
        yet; returns how many. Exactly one replica takes each over."""
        async with self.deps.db.write() as uow:
            taken = await uow.coordination.take_over_runs(
                self.deps.replica, leases.lease_of(self.deps), monitoring=False
            )
        for run in taken:
            self.deps.tasks.spawn(self._resume(run), bounded=False)
        return len(taken)

    async def close_leftovers(self) -> int:
        """At start: the runs this process's earlier life left unfinished are closed (on
        SQLite every unfinished run; never another live replica's); returns how many."""
        async with self.deps.db.write() as uow:
            return await uow.coordination.close_left_runs(self.deps.replica, self.deps.clock.now())

    async def _resume(self, run: TakenRun) -> None:
        release_id = run.release_id
        async with self.deps.db.read() as uow:
            release = await load_release(uow, release_id)
            recorded = await uow.coordination.run_results(release_id, run.id)
        app = self.catalog.get(release.product)
        if app is None or release.state not in PRE_DEPLOY or release_id in self._running:
            log.info("check run %s of %s, taken over, closed as it is", run.id, release.name)
            await leases.close(self.deps, run.id)
            return
        self._running.add(release_id)  # before any await, as _begin does
        self.deps.products[release_id] = release.product
        jobs = [j for j in check_jobs(app, run.section) if j.key not in recorded]
        log.warning("run %s of %s taken over: %d check(s) left", run.id, release.name, len(jobs))
        await self._run(release_id, run.id, jobs, run.actor, recorded=Counter(recorded.values()))
