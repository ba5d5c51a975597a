"""Post-deployment monitoring: each phase's runs, alerts on breaches, one digest per phase.

What is due is derived from the database on every tick (deployment time + phase offsets,
the last run of the phase, the digests already recorded), never from memory alone, so a
restart loses nothing and doubles nothing.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass
from datetime import datetime

from bot.db import UnitOfWork
from bot.db.coordination import TakenRun
from bot.db.marks import DIGEST
from bot.domain.checklist import Item
from bot.domain.deployment import check_can_answer_alert, responders_to_call
from bot.domain.errors import DomainError, InvalidState, NotFound
from bot.domain.model import ItemStatus, Release, ReleaseState
from bot.domain.monitoring import (
    Breach,
    PhaseWindow,
    breach_alert,
    current,
    digest,
    digest_notice,
    digests_due,
    due_slot,
    is_late,
    run_key,
    timeline,
)
from bot.domain.notices import AlertAnswered, MonitoringComplete, Recovered
from bot.domain.text import Person, listed, truncate
from bot.services import leases
from bot.services.checking import results
from bot.services.deps import Deps, Service
from bot.services.membership import memberships
from bot.services.records import load_release, load_view, show
from checks import CheckJob, CheckResult

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Answered:
    """What an answer to an alert is about."""

    id: int
    items: list[str]  # item ids
    summary: str  # the items, in words
    acknowledged_by: str | None
    rolled_back_by: str | None


class MonitorService(Service):
    def __init__(self, deps: Deps) -> None:
        super().__init__(deps)
        self._lock = asyncio.Lock()  # ticks never overlap
        self._runs: dict[int, asyncio.Task[None]] = {}  # release id -> its phase run in flight
        self._taken: dict[asyncio.Task[None], int] = {}  # runs taken over, in flight: release

    async def tick(self, wait: bool = False) -> None:
        """Post the digests that are due and start the runs that are due; `wait`: also wait
        for those runs (tests)."""
        async with self._lock:
            try:
                await self._take_over()
            except Exception:
                log.exception("taking over post-deploy runs whose replica died failed")
            async with self.deps.db.read() as uow:
                release_ids = await uow.releases.monitored()
            for release_id in release_ids:
                try:
                    await self._advance(release_id)
                except NotFound as exc:  # a product no longer configured: waits for it
                    log.debug("post-deploy monitoring of release %s waits: %s", release_id, exc)
                except Exception:
                    log.exception("post-deploy monitoring of release %s failed", release_id)
        if wait and (self._runs or self._taken):
            await asyncio.gather(*self._runs.values(), *self._taken, return_exceptions=True)

    async def _advance(self, release_id: int) -> None:
        app = await self.deps.config_of(release_id)
        now = self.deps.clock.now()
        async with self.deps.db.read() as uow:
            release = await load_release(uow, release_id)
            posted = await uow.marks.keys(release_id, DIGEST)
        assert release.deployed_at is not None
        windows = timeline(app.post_deploy.phases, release.deployed_at)
        busy = release_id in self._runs or release_id in self._taken.values()
        if not busy:  # a phase's last run (one taken over too) must land before its digest
            for ended in digests_due(windows, posted, now):
                await self._post_digest(release, ended, windows, now)
        window = current(windows, now)
        if window is None or release_id in self._runs:
            return
        key = run_key(window, due_slot(window, now))
        async with self.deps.db.read() as uow:
            done = key in await uow.marks.keys(release_id, key)
        if not done:
            # Tracked with the rest of the background work: drained before the database closes.
            task = self.deps.tasks.spawn(self._run(release, window, key), bounded=False)
            self._runs[release_id] = task
            task.add_done_callback(lambda _: self._runs.pop(release_id, None))

    # --- runs and alerts --------------------------------------------------------------------

    async def _run(self, release: Release, window: PhaseWindow, key: str) -> None:
        app = self.deps.config(release)
        items = app.post_deploy.items
        jobs = [CheckJob(item.id, item.check) for item in items if item.check is not None]
        now = self.deps.clock.now()
        async with self.deps.db.write() as uow:
            if not await uow.marks.mark(release.id, key, now, now):
                return  # another process (or an earlier life of this one) ran this slot
            run_id = await uow.checks.start_run(
                release.id, "monitor", None, len(jobs), now, phase=window.phase.id
            )
            lease = leases.lease_of(self.deps)
            await uow.coordination.own_run(run_id, self.deps.replica, lease, None)
            if release.state is ReleaseState.DEPLOYED:
                await uow.releases.set_state(release.id, ReleaseState.MONITORING, now)
                await uow.audit.append("release.state", now, release.id, None, new="monitoring")
        await self._carry_out(release, window, run_id, jobs)

    async def _carry_out(
        self, release: Release, window: PhaseWindow, run_id: int, jobs: list[CheckJob]
    ) -> None:
        """Run JOBS as run RUN_ID of WINDOW's phase, held under its lease, and finish it."""
        by_id = {item.id: item for item in self.deps.config(release).post_deploy.items}
        stopping = False
        try:
            async with (
                leases.renewing(self.deps, run_id),
                contextlib.aclosing(results(self.deps, release.product, jobs)) as landing,
            ):
                async for result in landing:
                    async with self.deps.db.write() as uow:
                        if not await leases.renew(uow, self.deps, run_id):
                            break  # taken over: the replica that has it records the rest
                        item = by_id[result.key]
                        await self._record(uow, release, window, run_id, item, result)
        except asyncio.CancelledError:
            stopping = leases.handing_over(self.deps)  # another replica carries it on
            raise
        finally:
            if stopping:
                await leases.hand_over(self.deps, run_id)
            else:
                async with self.deps.db.write() as uow:
                    await leases.finish(uow, self.deps, run_id)

    async def _take_over(self) -> None:
        """Post-deploy runs whose replica stopped renewing them (it died mid-run): taken
        over here, each run to its end with the items it has no result for yet, beside any
        newer slot's run of the release (its phase's digest waits for it; the next slot
        does not)."""
        async with self.deps.db.write() as uow:
            taken = await uow.coordination.take_over_runs(
                self.deps.replica, leases.lease_of(self.deps), monitoring=True
            )
        for run in taken:
            task = self.deps.tasks.spawn(self._resume(run), bounded=False)
            self._taken[task] = run.release_id
            task.add_done_callback(lambda done: self._taken.pop(done, None))

    async def _resume(self, run: TakenRun) -> None:
        """A taken-over run of a release still monitored is carried on in its own phase's
        window; any other (monitoring over, the product or phase no longer configured) is
        closed as it is."""
        try:
            app = await self.deps.config_of(run.release_id)
            async with self.deps.db.read() as uow:
                release = await load_release(uow, run.release_id)
                recorded = await uow.coordination.run_results(release.id, run.id)
        except DomainError as exc:
            log.info("post-deploy run %s, taken over, closed as it is: %s", run.id, exc)
            await leases.close(self.deps, run.id)
            return
        monitored = release.state in (ReleaseState.DEPLOYED, ReleaseState.MONITORING)
        deployed = release.deployed_at
        windows = timeline(app.post_deploy.phases, deployed) if monitored and deployed else []
        window = next((w for w in windows if w.phase.id == run.phase), None)
        if window is None:
            log.info("post-deploy run %s of %s, taken over, closed as it is", run.id, release.name)
            await leases.close(self.deps, run.id)
            return
        items = app.post_deploy.items
        jobs = [
            CheckJob(i.id, i.check) for i in items if i.check is not None and i.id not in recorded
        ]
        log.warning("run %s of %s taken over: %d check(s) left", run.id, release.name, len(jobs))
        await self._carry_out(release, window, run.id, jobs)

    async def _record(
        self,
        uow: UnitOfWork,
        release: Release,
        window: PhaseWindow,
        run_id: int,
        item: Item,
        result: CheckResult,
    ) -> None:
        """Record a post-deploy result. An item starting to fail joins the release's open
        breach (its one message is edited) or opens one (its message posted, calling the
        responders); the last of its items to pass again closes it, said once."""
        app = self.deps.config(release)
        now = self.deps.clock.now()
        status = result.status.value
        values, took = result.values, result.duration_ms
        await uow.checks.add_result(
            release.id, run_id, item.id, status, result.reason, values, took, now
        )
        open_alert = await uow.monitoring.open_alert(release.id, item.id)
        failing = status != ItemStatus.PASS.value
        if failing == (open_alert is not None):
            return  # still failing, or still passing: nothing new to say
        view = await load_view(uow, app, release)
        assert view.facts is not None
        breaching = view.facts.breaching
        if failing:
            breach = await uow.monitoring.open_message(release.id)
            if breach is None:
                responders = responders_to_call(app, view)
                message_id = await uow.monitoring.add_message(
                    release.id, window.phase.id, responders, now
                )
            else:
                message_id = breach.id
            reason = truncate(result.reason, 500)
            await uow.monitoring.add_alert(
                release.id, item.id, window.phase.id, status, reason, now, message_id
            )
            await uow.audit.append(
                "alert.opened", now, release.id, None, item=item.id, reason=result.reason
            )
            if breach is None:  # posted; after that, edited
                opened = await uow.monitoring.message(message_id)
                assert opened is not None
                notice = breach_alert(app, release, opened)
                await uow.outbox.enqueue(release.id, notice, now)
            else:
                await uow.monitoring.touch_message(message_id)
            breaching = (*breaching, item.id)
        else:
            assert open_alert is not None
            await uow.monitoring.recover(open_alert.id, now)
            await uow.audit.append("alert.recovered", now, release.id, None, item=item.id)
            await self._recovered(uow, release, open_alert, now)
            breaching = tuple(i for i in breaching if i != item.id)
        await show(uow, self.deps, view.changed(app, breaching=breaching))

    async def _recovered(
        self, uow: UnitOfWork, release: Release, alert: Breach, now: datetime
    ) -> None:
        """An item passes again: its breach's message says so; the breach is over once
        none of its items fails, and that is said once in the thread."""
        app = self.deps.config(release)
        if alert.message_id is None:  # opened by an older version: announced alone
            notice = Recovered(release.name, (app.title_of(alert.item_id),))
            await uow.outbox.enqueue(release.id, notice, now)
            return
        breach = await uow.monitoring.message(alert.message_id)
        assert breach is not None
        if breach.failing:
            await uow.monitoring.touch_message(breach.id)
            return
        await uow.monitoring.close_message(breach.id, now)
        titles = tuple(dict.fromkeys(app.title_of(b.item_id) for b in breach.breaches))
        await uow.outbox.enqueue(release.id, Recovered(release.name, titles), now)

    async def answer(self, release_id: int, alert_id: int, user: str, rollback: bool) -> str:
        """An answer to an alert of an older version (one item per alert): answers its
        breach if it has one; returns what was done."""
        async with self.deps.db.read() as uow:
            alert = await uow.monitoring.alert(alert_id)
        if alert is not None and alert.message_id is not None:
            return await self.answer_breach(release_id, alert.message_id, user, rollback)
        return await self._answer(release_id, user, rollback, alert_id=alert_id)

    async def answer_breach(
        self, release_id: int, message_id: int, user: str, rollback: bool
    ) -> str:
        """Acknowledge a breach, or record the decision to roll back; returns what was done.
        Its message shows who answered and when, and loses the button answered."""
        return await self._answer(release_id, user, rollback, message_id=message_id)

    async def _answer(
        self,
        release_id: int,
        user: str,
        rollback: bool,
        message_id: int | None = None,
        alert_id: int | None = None,
    ) -> str:
        app = await self.deps.config_of(release_id)
        held = await memberships(app, user, self.deps.directory)
        now = self.deps.clock.now()
        async with self.deps.db.write() as uow:
            release = await load_release(uow, release_id)
            target = await self._answered(uow, release, message_id, alert_id)
            view = await load_view(uow, app, release)
            check_can_answer_alert(app, view, held, user)
            if rollback and target.rolled_back_by:
                raise InvalidState(
                    _who(target.rolled_back_by, user), " already decided to roll back."
                )
            if not rollback and target.acknowledged_by:
                raise InvalidState(_who(target.acknowledged_by, user), " already acknowledged it.")
            if message_id is not None:
                await uow.monitoring.answer_message(message_id, user, now, rollback)
            else:
                await uow.monitoring.answer(target.id, user, now, rollback)
            plan = release.rollback_plan if rollback else None
            notice = AlertAnswered(user, target.summary, release.name, rollback, plan)
            await uow.outbox.enqueue(release.id, notice, now)
            await uow.audit.append(
                "alert.rollback" if rollback else "alert.acknowledged",
                now,
                release.id,
                user,
                **({"message": message_id} if message_id else {"alert": alert_id}),
                items=target.items,
            )
            if rollback:  # the card says it was rolled back
                await show(uow, self.deps, await load_view(uow, app, release))
        return "rolled back" if rollback else "acknowledged"

    async def _answered(
        self, uow: UnitOfWork, release: Release, message_id: int | None, alert_id: int | None
    ) -> Answered:
        """What an answer is about: a breach's message, or one alert of an older version."""
        if message_id is not None:
            breach = await uow.monitoring.message(message_id)
            if breach is None or breach.release_id != release.id:
                raise NotFound("That alert no longer exists.")
            items = [b.item_id for b in breach.breaches]
            decided = breach.rolled_back.user if breach.rolled_back else None
            acked = breach.acknowledged.user if breach.acknowledged else None
            return Answered(breach.id, items, self._summary(release, items), acked, decided)
        alert = await uow.monitoring.alert(alert_id or 0)
        if alert is None or alert.release_id != release.id:
            raise NotFound("That alert no longer exists.")
        items = [alert.item_id]
        summary = self._summary(release, items)
        return Answered(alert.id, items, summary, alert.acknowledged_by, alert.rolled_back_by)

    def _summary(self, release: Release, item_ids: list[str]) -> str:
        app = self.deps.config(release)
        titles = list(dict.fromkeys(app.title_of(i) for i in item_ids))
        return str(listed(titles, 3))

    # --- digests ----------------------------------------------------------------------------

    async def _post_digest(
        self, release: Release, window: PhaseWindow, windows: list[PhaseWindow], now: datetime
    ) -> None:
        """One transaction: the mark (unique per release and phase), the message, the state."""
        app = self.deps.config(release)
        late = is_late(window, now, app.post_deploy.grace)
        following = windows[window.index + 1] if window.index + 1 < len(windows) else None
        items = app.post_deploy.items
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
            await show(uow, self.deps, await load_view(uow, app, current))


def _who(answered_by: str, asking: str) -> Person | str:
    """Who answered, as the person asking reads it: "You" when it was them."""
    return "You" if answered_by == asking else Person(answered_by)
