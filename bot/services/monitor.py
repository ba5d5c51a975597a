"""Post-deployment monitoring: each phase's runs, alerts on breaches, one digest per phase.

What is due is derived from the database on every tick (deployment time + phase offsets,
the last run of the phase, the digests already recorded), never from memory alone, so a
restart loses nothing and doubles nothing.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime

from bot.db import UnitOfWork
from bot.db.marks import DIGEST
from bot.domain.checklist import Item
from bot.domain.deployment import check_can_answer_alert, responders_to_call
from bot.domain.errors import InvalidState, NotFound
from bot.domain.model import ItemStatus, Release, ReleaseState
from bot.domain.monitoring import (
    PhaseWindow,
    current,
    digest,
    digest_notice,
    digests_due,
    due_slot,
    is_late,
    run_key,
    timeline,
)
from bot.domain.notices import AlertAnswered, AlertOpened, MonitoringComplete, Recovered
from bot.domain.text import Person, truncate
from bot.services.checking import results
from bot.services.deps import Deps, Service
from bot.services.membership import memberships
from bot.services.records import load_release, load_view, show
from checks import CheckJob, CheckResult

log = logging.getLogger(__name__)


class MonitorService(Service):
    def __init__(self, deps: Deps) -> None:
        super().__init__(deps)
        self._lock = asyncio.Lock()  # ticks never overlap
        self._runs: dict[int, asyncio.Task[None]] = {}  # release id -> its phase run in flight

    async def tick(self, wait: bool = False) -> None:
        """Post the digests that are due and start the runs that are due; `wait`: also wait
        for those runs (tests)."""
        async with self._lock:
            async with self.deps.db.read() as uow:
                release_ids = await uow.releases.monitored()
            for release_id in release_ids:
                try:
                    await self._advance(release_id)
                except Exception:
                    log.exception("post-deploy monitoring of release %s failed", release_id)
        if wait and self._runs:
            await asyncio.gather(*self._runs.values(), return_exceptions=True)

    async def _advance(self, release_id: int) -> None:
        now = self.deps.clock.now()
        async with self.deps.db.read() as uow:
            release = await load_release(uow, release_id)
            posted = await uow.marks.keys(release_id, DIGEST)
        assert release.deployed_at is not None
        windows = timeline(self.app.post_deploy.phases, release.deployed_at)
        if release_id not in self._runs:  # a phase's last run must land before its digest
            for ended in digests_due(windows, posted, now):
                await self._post_digest(release, ended, windows, now)
        window = current(windows, now)
        if window is None or release_id in self._runs:
            return
        key = run_key(window, due_slot(window, now))
        async with self.deps.db.read() as uow:
            done = key in await uow.marks.keys(release_id, key)
        if not done:
            task = asyncio.create_task(self._run(release, window, key))
            self._runs[release_id] = task
            task.add_done_callback(lambda _: self._runs.pop(release_id, None))

    # --- runs and alerts --------------------------------------------------------------------

    async def _run(self, release: Release, window: PhaseWindow, key: str) -> None:
        items = self.app.post_deploy.items
        jobs = [CheckJob(item.id, item.check) for item in items if item.check is not None]
        by_id = {item.id: item for item in items}
        now = self.deps.clock.now()
        async with self.deps.db.write() as uow:
            if not await uow.marks.mark(release.id, key, now, now):
                return  # another process (or an earlier life of this one) ran this slot
            run_id = await uow.checks.start_run(
                release.id, "monitor", None, len(jobs), now, phase=window.phase.id
            )
            if release.state is ReleaseState.DEPLOYED:
                await uow.releases.set_state(release.id, ReleaseState.MONITORING, now)
                await uow.audit.append("release.state", now, release.id, None, new="monitoring")
        try:
            async for result in results(self.deps, jobs):
                async with self.deps.db.write() as uow:
                    await self._record(uow, release, window, run_id, by_id[result.key], result)
        finally:
            async with self.deps.db.write() as uow:
                await uow.checks.finish_run(run_id, self.deps.clock.now())

    async def _record(
        self,
        uow: UnitOfWork,
        release: Release,
        window: PhaseWindow,
        run_id: int,
        item: Item,
        result: CheckResult,
    ) -> None:
        now = self.deps.clock.now()
        await uow.checks.add_result(
            release.id,
            run_id,
            item.id,
            result.status.value,
            result.reason,
            result.values,
            result.duration_ms,
            now,
        )
        open_alert = await uow.monitoring.open_alert(release.id, item.id)
        failing = result.status.value != ItemStatus.PASS.value
        reason = truncate(result.reason, 500)
        if failing and open_alert is None:
            alert_id = await uow.monitoring.add_alert(
                release.id, item.id, window.phase.id, result.status.value, result.reason, now
            )
            view = await load_view(uow, self.app, release)
            notice = AlertOpened(
                release=release.id,
                alert=alert_id,
                responders=tuple(responders_to_call(self.app, view)),
                item=item.title,
                name=release.name,
                phase=window.phase.title,
                failing=result.status.value == "fail",
                reason=reason,
            )
            await uow.outbox.enqueue(release.id, notice, now)
            await uow.audit.append(
                "alert.opened", now, release.id, None, item=item.id, reason=result.reason
            )
            await show(uow, self.deps, view)
        elif not failing and open_alert is not None:
            await uow.monitoring.recover(open_alert.id, now)
            await uow.outbox.enqueue(release.id, Recovered(item.title, release.name, reason), now)
            await uow.audit.append("alert.recovered", now, release.id, None, item=item.id)
            await show(uow, self.deps, await load_view(uow, self.app, release))

    async def answer(self, release_id: int, alert_id: int, user: str, rollback: bool) -> str:
        """Acknowledge a breach, or record the decision to roll back; returns what was done."""
        held = await memberships(self.app, user, self.deps.directory)
        now = self.deps.clock.now()
        async with self.deps.db.write() as uow:
            release = await load_release(uow, release_id)
            alert = await uow.monitoring.alert(alert_id)
            if alert is None or alert.release_id != release.id:
                raise NotFound("That alert no longer exists.")
            view = await load_view(uow, self.app, release)
            check_can_answer_alert(self.app, view, held, user)
            title = self.app.title_of(alert.item_id)
            if rollback and alert.rolled_back_by:
                raise InvalidState(Person(alert.rolled_back_by), " already decided to roll back.")
            if not rollback and alert.acknowledged_by:
                raise InvalidState(Person(alert.acknowledged_by), " already acknowledged it.")
            plan = release.rollback_plan if rollback else None
            notice = AlertAnswered(user, title, release.name, rollback, plan)
            await uow.monitoring.answer(alert.id, user, now, rollback)
            await uow.outbox.enqueue(release.id, notice, now)
            await uow.audit.append(
                "alert.rollback" if rollback else "alert.acknowledged",
                now,
                release.id,
                user,
                alert=alert.id,
                item=alert.item_id,
            )
        return "rolled back" if rollback else "acknowledged"

    # --- digests ----------------------------------------------------------------------------

    async def _post_digest(
        self, release: Release, window: PhaseWindow, windows: list[PhaseWindow], now: datetime
    ) -> None:
        """One transaction: the mark (unique per release and phase), the message, the state."""
        late = is_late(window, now, self.app.post_deploy.grace)
        following = windows[window.index + 1] if window.index + 1 < len(windows) else None
        items = self.app.post_deploy.items
        async with self.deps.db.write() as uow:
            if not await uow.marks.mark(release.id, window.digest_key, window.end, now, late):
                return
            observations = await uow.checks.observations(
                release.id, [i.id for i in items], window.start
            )
            found = digest(
                window,
                items,
                observations,
                await uow.monitoring.breaches(release.id),
                following.phase if following else None,
                late,
            )
            await uow.outbox.enqueue(release.id, digest_notice(release, found), now)
            await uow.audit.append(
                "digest.posted", now, release.id, None, phase=window.phase.id, late=late
            )
            if following is None:
                await uow.releases.set_state(release.id, ReleaseState.DONE, now)
                await uow.audit.append("release.state", now, release.id, None, new="done")
                await uow.outbox.enqueue(release.id, MonitoringComplete(release.name), now)
            current = await load_release(uow, release.id)
            await show(uow, self.deps, await load_view(uow, self.app, current))
