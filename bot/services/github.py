"""GitHub Actions waiting on a release: webhook deliveries handled, and each waiting job
answered once, whichever replica is alive.

A delivery is recorded before GitHub is answered, then handled (a release opened for
the sha if none has it, the job recorded as waiting on it). What a job is answered
follows from its release's state and the change freezes holding it now
(`bot.domain.github.decide`): decided once in the database, then sent until GitHub takes
it, with backoff, by one replica at a time (a lease on the database's clock); what was
decided but not sent when a replica died is sent by the next pass of any other.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any

from bot.db import UnitOfWork
from bot.domain.errors import DomainError, InvalidInput
from bot.domain.freezes import ChangeFreeze, current, holds
from bot.domain.github import FROZEN, Decision, Gate, Verdict, comment, decide, event_fields
from bot.domain.model import Release, ReleaseState
from bot.domain.text import stamp
from bot.domain.view import ReleaseView
from bot.domain.waivers import WaiverState
from bot.github.api import GitHubApp, GitHubRefused, GitHubUnavailable
from bot.services.deploy import DeployService
from bot.services.deps import Deps, Service
from bot.services.records import load_release, load_view, show
from bot.services.releases import ReleaseService

log = logging.getLogger(__name__)

OPENER = "GitHub Actions"  # who opened a release for a waiting job, and who deployed it
LEASE = 30.0  # seconds a replica holds the answers it is sending
MAX_BACKOFF = 300.0


class GitHubService(Service):
    def __init__(
        self,
        deps: Deps,
        releases: ReleaseService,
        deploy: DeployService,
        app: GitHubApp | None,
    ) -> None:
        super().__init__(deps)
        self.releases, self.deploy, self.app = releases, deploy, app

    # --- deliveries -------------------------------------------------------------------------

    async def receive(self, delivery_id: str, event: str, payload: dict[str, Any]) -> bool:
        """Record a delivery (on disk before GitHub is answered); False: a redelivery."""
        async with self.deps.db.write() as uow:
            return await uow.github.record_delivery(
                delivery_id[:80], event[:60], payload, self.deps.clock.now()
            )

    async def handle(self) -> int:
        """Handle every delivery not yet handled, oldest first; then answer what is due."""
        async with self.deps.db.read() as uow:
            pending = await uow.github.unhandled()
        for delivery_id, event, payload in pending:
            error: str | None = None
            try:
                await self._handle(event, payload)
            except DomainError as exc:
                error = str(exc)
                log.warning("GitHub delivery %s (%s): %s", delivery_id, event, error)
            except Exception as exc:  # recorded, not retried for ever
                error = f"{type(exc).__name__}: {exc}"
                log.exception("GitHub delivery %s (%s) failed", delivery_id, event)
            async with self.deps.db.write() as uow:
                await uow.github.handled(delivery_id, self.deps.clock.now(), error)
        await self.answer()
        return len(pending)

    async def _handle(self, event: str, payload: dict[str, Any]) -> None:
        if event == "deployment_protection_rule" and payload.get("action") == "requested":
            await self._requested(payload)
        elif event == "deployment_status":
            await self._status(payload)

    def _product(self, repository: str, environment: str) -> str:
        for pid, app in self.catalog.products.items():
            if app.github is not None and app.github.gates(repository, environment):
                return pid
        raise InvalidInput(f"no product gates {repository} → {environment}")

    async def _requested(self, payload: dict[str, Any]) -> None:
        fields = event_fields(payload)
        if fields is None:
            raise InvalidInput("a deployment_protection_rule request without its fields")
        repository, environment, sha, run_id, installation = fields
        pid = self._product(repository, environment)
        async with self.deps.db.read() as uow:
            release = await uow.releases.by_ref(pid, sha)
        if release is None:
            app = self.catalog.config(pid)
            name = f"{repository.split('/')[-1]} {sha[:7]}"
            channel = app.homes[0]  # a product that gates GitHub has one (checked at load)
            opened = await self.releases.open(name, sha, OPENER, channel, product=pid)
            release = opened.release
        html = str((payload.get("repository") or {}).get("html_url") or "")
        run_url = f"{html or 'https://github.com/' + repository}/actions/runs/{run_id}"
        now = self.deps.clock.now()
        async with self.deps.db.write() as uow:
            added = await uow.github.add_gate(
                release.id, repository, environment, run_id, run_url, installation, sha, now
            )
            if added:
                await uow.audit.append(
                    "github.waiting",
                    now,
                    release.id,
                    OPENER,
                    repository=repository,
                    environment=environment,
                    run_id=run_id,
                    sha=sha,
                )
                await self._redraw(uow, release)

    async def _status(self, payload: dict[str, Any]) -> None:
        """A successful deployment of a gated environment marks its release deployed."""
        status = payload.get("deployment_status") or {}
        deployment = payload.get("deployment") or {}
        repository = str((payload.get("repository") or {}).get("full_name") or "")
        environment = str(status.get("environment") or deployment.get("environment") or "")
        sha = str(deployment.get("sha") or "").lower()
        if status.get("state") != "success" or not sha:
            return
        pid = self._product(repository, environment)
        async with self.deps.db.read() as uow:
            release = await uow.releases.by_ref(pid, sha)
        if release is None or release.state not in (ReleaseState.APPROVED,):
            return  # nothing of ours to mark (or marked already)
        run = (payload.get("workflow_run") or {}).get("id")
        if run is None:  # the run that waited for this environment
            async with self.deps.db.read() as uow:
                gates = await uow.github.gates_of(release.id)
            run = next((g.run_id for g in gates if g.environment == environment), None)
        by = f"{OPENER} run {run}" if run is not None else OPENER  # who: 40 characters at most
        await self.deploy.mark_deployed_by_api(release.id, by[:40])

    # --- answers ----------------------------------------------------------------------------

    async def answer(self) -> int:
        """Decide what waiting jobs are answered now, then send what is due; the count sent."""
        await self.decide()
        return await self.send()

    async def decide(self) -> None:
        now = self.deps.clock.now()
        async with self.deps.db.read() as uow:
            waiting = await uow.github.waiting()
            held = await self._held(uow, waiting, now)
            lapsed = await self._lapsed(uow, waiting, now)
        for gate, product, state in waiting:
            app = self.catalog.get(product)
            if app is None or app.github is None:
                continue  # its product was taken out of the config: it waits
            if gate.release_id in lapsed:  # the tick is about to record it suspended
                state = ReleaseState.SUSPENDED
            frozen = gate.release_id in held
            decision = decide(state, gate, now, app.github.timeout, frozen)
            if decision is not None:
                await self._record(gate, decision, now)

    async def _held(
        self, uow: UnitOfWork, waiting: list[tuple[Gate, str, ReleaseState]], now: datetime
    ) -> set[int]:
        """The approved releases jobs wait on that a change freeze holds now (covering now,
        and the release has no exception for it)."""
        held: set[int] = set()
        seen: set[int] = set()  # a release several jobs wait on is read once
        for gate, product, state in waiting:
            app = self.catalog.get(product)
            if app is None or state is not ReleaseState.APPROVED or gate.release_id in seen:
                continue
            seen.add(gate.release_id)
            if current(app.freezes, now):
                exceptions = await uow.freezes.exceptions(gate.release_id)
                if holds(app.freezes, exceptions, now):
                    held.add(gate.release_id)
        return held

    async def _lapsed(
        self, uow: UnitOfWork, waiting: list[tuple[Gate, str, ReleaseState]], now: datetime
    ) -> set[int]:
        """The approved releases jobs wait on with a waiver whose expiry has come but is not
        yet recorded: between the two, the gate says no, and so must GitHub's answer."""
        approved = {g.release_id for g, _, state in waiting if state is ReleaseState.APPROVED}
        return {
            release_id
            for release_id in approved
            if any(
                w.state is WaiverState.GRANTED and w.expires_at is not None and w.expires_at <= now
                for w in await uow.waivers.of(release_id)
            )
        }

    async def _record(self, gate: Gate, decision: Decision, now: datetime) -> None:
        async with self.deps.db.write() as uow:
            if decision.verdict is None:
                await uow.github.report(gate.id, decision.reason)
                return
            if not await uow.github.decide(gate.id, decision.verdict, decision.reason, now):
                return  # another replica decided it a moment ago
            await uow.audit.append(
                "github.decided",
                now,
                gate.release_id,
                None,
                repository=gate.repository,
                environment=gate.environment,
                run_id=gate.run_id,
                state=decision.verdict.value,
                reason=decision.reason,
            )
            await self._redraw(uow, await load_release(uow, gate.release_id))

    async def send(self) -> int:
        """Send the answers and reports due (this replica's for a lease); the count sent."""
        if self.app is None:
            return 0
        async with self.deps.db.read() as uow:  # most card changes owe GitHub nothing
            if not await uow.github.any_unsent():
                return 0
        async with self.deps.db.write() as uow:
            claimed = await uow.github.claim_unsent(self.deps.replica, LEASE)
        sent = 0
        for gate, installation, report in claimed:
            sent += await self._send(gate, installation, report)
        return sent

    async def _send(self, gate: Gate, installation: int, report: str | None) -> int:
        assert self.app is not None
        async with self.deps.db.read() as uow:
            release = await load_release(uow, gate.release_id)
            view = await load_view(uow, self.deps.config(release), release)
        state = gate.verdict.value if gate.verdict is not None and report is None else None
        text = comment(await self._comment(view, gate, report))
        now = self.deps.clock.now()
        try:
            await self.app.review(
                gate.repository, gate.run_id, installation, gate.environment, state, text
            )
        except (GitHubRefused, GitHubUnavailable) as exc:
            retry = None
            if isinstance(exc, GitHubUnavailable):
                retry = now + timedelta(seconds=min(MAX_BACKOFF, 2.0**gate.attempts))
            log.warning("GitHub did not take the answer for %s: %s", gate.run_url, exc)
            async with self.deps.db.write() as uow:
                await uow.github.failed(gate.id, self.deps.replica, str(exc), retry, report)
                if retry is None and report is None:
                    await self._redraw(uow, release)  # the card says GitHub refused it
            return 0
        async with self.deps.db.write() as uow:
            await uow.github.sent(gate.id, self.deps.replica, report, now)
            if report is None:
                await self._redraw(uow, release)
        return 1

    async def _redraw(self, uow: UnitOfWork, release: Release) -> None:
        """The card shows the release's gates as this transaction leaves them."""
        app = self.deps.config(release)
        await show(uow, self.deps, await load_view(uow, app, await load_release(uow, release.id)))

    async def _comment(self, view: ReleaseView, gate: Gate, report: str | None) -> str:
        release = view.release
        card = None
        if release.card_ts:
            card = await self.deps.directory.link(release.channel, release.card_ts)
        where = f" Card: {card}" if card else ""
        if report == FROZEN:
            return f"{release.name} {_frozen(view)}{where}"
        if report is not None:
            said = {
                ReleaseState.BLOCKED.value: "blocked: an approver rejected it",
                ReleaseState.SUSPENDED.value: "suspended: a blocking item no longer passes",
            }.get(report, report)
            return f"{release.name} is {said}. Still waiting for the sign-off.{where}"
        if gate.verdict is Verdict.REJECTED:
            return f"{release.name} was {gate.reason or 'rejected'} in Readiness.{where}"
        return f"{release.name} was approved in Readiness by {await _signers(self, view)}.{where}"


def _frozen(view: ReleaseView) -> str:
    """Why an approved release's job still waits: the freeze holding it."""
    held = [r for r in view.authorization.reasons if isinstance(r, ChangeFreeze)]
    if not held:  # it ended (or was excepted) since: the answer follows
        return "was held by a change freeze."
    return (
        f"is approved, but the change freeze {held[0].title} holds it until "
        f"{stamp(held[0].until)}. The job waits for the freeze to end, or for the final "
        "approver's exception."
    )


async def _signers(service: Service, view: ReleaseView) -> str:
    users = [s.user_id for s in view.signatures]
    names = await service.deps.directory.names(users)
    app = service.deps.config(view.release)
    said = [
        f"{app.role_title(s.role_id)} {names.get(s.user_id, s.user_id)}" for s in view.signatures
    ]
    return ", ".join(said) or "nobody"
