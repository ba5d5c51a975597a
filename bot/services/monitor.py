"""Post-deployment monitoring: each phase's runs, alerts on breaches, one digest per phase.

What is due is derived from the database on every tick (deployment time + phase offsets,
the last run of the phase, the digests already recorded), never from memory alone, so a
restart loses nothing and doubles nothing.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime

from bot.config import AppConfig, Item
from bot.db import Repo
from bot.domain.deployment import check_can_answer_alert, responders_to_call
from bot.domain.errors import InvalidState, NotFound
from bot.domain.model import ItemStatus, Release, ReleaseState
from bot.domain.monitoring import (
    Digest,
    PhaseWindow,
    current,
    digest,
    digests_due,
    due_slot,
    is_late,
    run_key,
    timeline,
)
from bot.services.deps import Deps
from bot.services.membership import memberships
from bot.services.records import load_release, load_view
from bot.text import escape, truncate
from checks import CheckContext, CheckJob, CheckResult, run_checks

log = logging.getLogger(__name__)


class MonitorService:
    def __init__(self, deps: Deps) -> None:
        self.deps = deps
        self._lock = asyncio.Lock()  # ticks never overlap
        self._runs: dict[int, asyncio.Task[None]] = {}  # release id -> its phase run in flight

    @property
    def app(self) -> AppConfig:
        return self.deps.settings.app

    async def tick(self, wait: bool = False) -> None:
        """Post the digests that are due and start the runs that are due; `wait`: also wait
        for those runs (tests)."""
        async with self._lock:
            async with self.deps.db.read() as repo:
                release_ids = await repo.monitored()
            for release_id in release_ids:
                try:
                    await self._advance(release_id)
                except Exception:
                    log.exception("post-deploy monitoring of release %s failed", release_id)
        if wait and self._runs:
            await asyncio.gather(*self._runs.values(), return_exceptions=True)

    async def _advance(self, release_id: int) -> None:
        now = self.deps.clock.now()
        async with self.deps.db.read() as repo:
            release = await load_release(repo, release_id)
            posted = set(await repo.marks(release_id, "digest:"))
        assert release.deployed_at is not None
        windows = timeline(self.app.post_deploy.phases, release.deployed_at)
        if release_id not in self._runs:  # a phase's last run must land before its digest
            for ended in digests_due(windows, posted, now):
                await self._post_digest(release, ended, windows, now)
        window = current(windows, now)
        if window is None or release_id in self._runs:
            return
        key = run_key(window, due_slot(window, now))
        async with self.deps.db.read() as repo:
            done = key in await repo.marks(release_id, key)
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
        async with self.deps.db.write() as repo:
            if not await repo.mark(release.id, key, now, now):
                return  # another process (or an earlier life of this one) ran this slot
            run_id = await repo.start_phase_run(release.id, window.phase.id, len(jobs), now)
            if release.state is ReleaseState.DEPLOYED:
                await repo.set_state(release.id, ReleaseState.MONITORING, now)
                await repo.audit("release.state", now, release.id, None, new="monitoring")
        settings = self.deps.settings
        ctx = CheckContext(self.deps.http, environ=settings.environ)
        try:
            async for result in run_checks(
                jobs, settings.registry, ctx, self.app.checks.concurrency
            ):
                item = by_id[result.key]
                kind = item.check.type if item.check is not None else "manual"
                self.deps.metrics.check(kind, result.status.value, result.duration_ms / 1000)
                async with self.deps.db.write() as repo:
                    await self._record(repo, release, window, run_id, item, result)
                self.deps.outbox_ready.set()
        finally:
            async with self.deps.db.write() as repo:
                await repo.finish_run(run_id, self.deps.clock.now())

    async def _record(
        self,
        repo: Repo,
        release: Release,
        window: PhaseWindow,
        run_id: int,
        item: Item,
        result: CheckResult,
    ) -> None:
        now = self.deps.clock.now()
        await repo.add_result(
            release.id,
            run_id,
            item.id,
            result.status.value,
            result.reason,
            result.values,
            result.duration_ms,
            now,
        )
        open_alert = await repo.open_alert(release.id, item.id)
        failing = result.status.value != ItemStatus.PASS.value
        title, name = escape(item.title), escape(release.name)
        if failing and open_alert is None:
            alert_id = await repo.add_alert(
                release.id, item.id, window.phase.id, result.status.value, result.reason, now
            )
            view = await load_view(repo, self.app, release)
            mentions = " ".join(f"<@{u}>" for u in responders_to_call(self.app, view))
            verb = "is failing" if result.status.value == "fail" else "could not be checked"
            await repo.enqueue(
                release.id,
                f":rotating_light: {mentions} *{title}* {verb} on *{name}* "
                f"({escape(window.phase.title)}): {escape(truncate(result.reason, 500))}",
                now,
                kind="alert",
                data={"release": release.id, "alert": alert_id},
            )
            await repo.audit(
                "alert.opened", now, release.id, None, item=item.id, reason=result.reason
            )
            await repo.touch_card(release.id)
        elif not failing and open_alert is not None:
            await repo.recover_alert(open_alert.id, now)
            await repo.enqueue(
                release.id,
                f":white_check_mark: *{title}* recovered on *{name}*: "
                f"{escape(truncate(result.reason, 500))}",
                now,
            )
            await repo.audit("alert.recovered", now, release.id, None, item=item.id)
            await repo.touch_card(release.id)

    async def answer(self, release_id: int, alert_id: int, user: str, rollback: bool) -> str:
        """Acknowledge a breach, or record the decision to roll back; returns what was done."""
        held = await memberships(self.app, user, self.deps.directory)
        now = self.deps.clock.now()
        async with self.deps.db.write() as repo:
            release = await load_release(repo, release_id)
            alert = await repo.alert(alert_id)
            if alert is None or alert.release_id != release.id:
                raise NotFound("That alert no longer exists.")
            view = await load_view(repo, self.app, release)
            check_can_answer_alert(self.app, view, held, user)
            item = next((i.title for i in self.app.post_deploy.items if i.id == alert.item_id), "")
            name, title = escape(release.name), escape(item or alert.item_id)
            if rollback:
                if alert.rolled_back_by:
                    raise InvalidState(f"<@{alert.rolled_back_by}> already decided to roll back.")
                plan = release.rollback_plan or "_no rollback plan was recorded_"
                text = (
                    f":leftwards_arrow_with_hook: <@{user}> decided to *roll back* *{name}* "
                    f"(alert on *{title}*). Rollback plan: {escape(plan)}"
                )
            else:
                if alert.acknowledged_by:
                    raise InvalidState(f"<@{alert.acknowledged_by}> already acknowledged it.")
                text = f":eyes: <@{user}> acknowledged the alert on *{title}*."
            await repo.answer_alert(alert.id, user, now, rollback)
            await repo.enqueue(release.id, text, now)
            await repo.audit(
                "alert.rollback" if rollback else "alert.acknowledged",
                now,
                release.id,
                user,
                alert=alert.id,
                item=alert.item_id,
            )
        self.deps.outbox_ready.set()
        return "rolled back" if rollback else "acknowledged"

    # --- digests ----------------------------------------------------------------------------

    async def _post_digest(
        self, release: Release, window: PhaseWindow, windows: list[PhaseWindow], now: datetime
    ) -> None:
        """One transaction: the mark (unique per release and phase), the message, the state."""
        late = is_late(window, now, self.app.post_deploy.grace)
        following = windows[window.index + 1] if window.index + 1 < len(windows) else None
        items = self.app.post_deploy.items
        async with self.deps.db.write() as repo:
            if not await repo.mark(release.id, window.digest_key, window.end, now, late):
                return
            observations = await repo.observations(release.id, [i.id for i in items], window.start)
            found = digest(
                window,
                items,
                observations,
                await repo.breaches(release.id),
                following.phase if following else None,
                late,
            )
            await repo.enqueue(
                release.id,
                _digest_text(release, found),
                now,
                in_thread=False,
                kind="digest",
                data=_digest_data(release, found),
            )
            await repo.audit(
                "digest.posted", now, release.id, None, phase=window.phase.id, late=late
            )
            if following is None:
                await repo.set_state(release.id, ReleaseState.DONE, now)
                await repo.audit("release.state", now, release.id, None, new="done")
                await repo.enqueue(
                    release.id,
                    f":checkered_flag: Post-deployment monitoring of *{escape(release.name)}* "
                    "is complete.",
                    now,
                )
            await repo.touch_card(release.id)
        self.deps.outbox_ready.set()

    async def digests(self, release_id: int) -> list[str]:
        """The phases whose digest is recorded, in order (for the export and the card)."""
        async with self.deps.db.read() as repo:
            marks = await repo.marks(release_id, "digest:")
        order = [p.id for p in self.app.post_deploy.phases]
        return sorted((k.removeprefix("digest:") for k in marks), key=order.index)


def _digest_text(release: Release, found: Digest) -> str:
    healthy = sum(1 for s in found.items if s.healthy)
    late = " (late)" if found.late else ""
    return (
        f"{found.window.phase.title} digest{late} — {release.name}: "
        f"{healthy}/{len(found.items)} post-deploy items passed every run, "
        f"{len(found.breaches)} breach(es)"
    )


def _digest_data(release: Release, found: Digest) -> dict[str, object]:
    """The digest's facts, for the Slack side to render (and the export to print)."""
    titles = {s.item.id: s.item.title for s in found.items}
    return {
        "release": release.id,
        "name": release.name,
        "phase": found.window.phase.id,
        "title": found.window.phase.title,
        "start": found.window.start.isoformat(),
        "end": found.window.end.isoformat(),
        "late": found.late,
        "next": found.next_phase.title if found.next_phase else None,
        "items": [
            {
                "id": s.item.id,
                "title": s.item.title,
                "manual": s.item.check is None,
                "runs": s.runs,
                "passed": s.passed,
                "worst": s.worst,
                "last_status": s.last.status.value if s.last else None,
                "last_reason": s.last.reason if s.last else None,
            }
            for s in found.items
        ],
        "breaches": [
            {
                "item": titles.get(b.item_id, b.item_id),
                "opened_at": b.opened_at.isoformat(),
                "recovered_at": b.recovered_at.isoformat() if b.recovered_at else None,
                "reason": b.reason,
                "acknowledged_by": b.acknowledged_by,
                "rolled_back_by": b.rolled_back_by,
            }
            for b in found.breaches
        ],
    }
