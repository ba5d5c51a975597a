"""The GitHub App's records: webhook deliveries, and the jobs waiting on releases."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, or_, select, update

from bot.db.repository import Repository, columns, table
from bot.db.tables import ReleaseRow
from bot.db.tables_github import GitHubDeliveryRow, GitHubGateRow
from bot.domain.github import Gate, Verdict
from bot.domain.model import ReleaseState

_GATES_OF = (  # read with every view of a release
    select(*columns(GitHubGateRow))
    .where(GitHubGateRow.release_id == bindparam("release"))
    .order_by(GitHubGateRow.id)
)


def _gate(row: Any) -> Gate:
    return Gate(
        id=row.id,
        release_id=row.release_id,
        repository=row.repository,
        environment=row.environment,
        run_id=row.run_id,
        run_url=row.run_url,
        requested_at=row.requested_at,
        verdict=Verdict(row.verdict) if row.verdict else None,
        reason=row.reason,
        sent_at=row.sent_at,
        refused=row.refused,
        reported=row.reported,
        reports=row.reports,
        attempts=row.attempts,
    )


class GitHubRepository(Repository):
    # --- deliveries -------------------------------------------------------------------------

    async def record_delivery(
        self, delivery_id: str, event: str, payload: dict[str, Any], now: datetime
    ) -> bool:
        """Keep a delivery to handle; False when this delivery id was received already."""
        return await self._insert_new(
            GitHubDeliveryRow,
            ["delivery_id"],
            delivery_id=delivery_id,
            event=event,
            payload=payload,
            received_at=now,
        )

    async def unhandled(self, limit: int = 50) -> list[tuple[str, str, dict[str, Any]]]:
        found = await self.session.execute(
            select(
                GitHubDeliveryRow.delivery_id, GitHubDeliveryRow.event, GitHubDeliveryRow.payload
            )
            .where(GitHubDeliveryRow.handled_at.is_(None))
            .order_by(GitHubDeliveryRow.received_at)
            .limit(limit)
        )
        return [(r.delivery_id, r.event, r.payload) for r in found.all()]

    async def handled(self, delivery_id: str, now: datetime, error: str | None = None) -> None:
        """Done with a delivery (ERROR: why it changed nothing; it is not tried again)."""
        deliveries = table(GitHubDeliveryRow)
        await self.session.execute(
            update(deliveries)
            .where(deliveries.c.delivery_id == delivery_id)
            .values(handled_at=now, error=error, attempts=deliveries.c.attempts + 1)
        )

    # --- gates ------------------------------------------------------------------------------

    async def add_gate(
        self,
        release_id: int,
        repository: str,
        environment: str,
        run_id: int,
        run_url: str,
        installation_id: int,
        sha: str,
        now: datetime,
    ) -> bool:
        """A job waits on the release; False when this (run, environment) waits already."""
        return await self._insert_new(
            GitHubGateRow,
            ["repository", "run_id", "environment"],
            release_id=release_id,
            repository=repository,
            environment=environment,
            run_id=run_id,
            run_url=run_url,
            installation_id=installation_id,
            sha=sha,
            requested_at=now,
        )

    async def gates_of(self, release_id: int) -> tuple[Gate, ...]:
        found = await self.session.execute(_GATES_OF, {"release": release_id})
        return tuple(_gate(row) for row in found.all())

    async def waiting(self) -> list[tuple[Gate, str, ReleaseState]]:
        """Gates not yet answered, with their release's product and state."""
        found = await self.session.execute(
            select(*columns(GitHubGateRow), ReleaseRow.product, ReleaseRow.state)
            .join(ReleaseRow, ReleaseRow.id == GitHubGateRow.release_id)
            .where(GitHubGateRow.verdict.is_(None), GitHubGateRow.refused.is_(None))
            .order_by(GitHubGateRow.id)
        )
        legacy = self.uow.legacy or ""
        return [(_gate(r), r.product or legacy, ReleaseState(r.state)) for r in found.all()]

    async def decide(self, gate_id: int, verdict: Verdict, reason: str, now: datetime) -> bool:
        """The answer is VERDICT, once: False when it was decided already."""
        gates = table(GitHubGateRow)
        done = await self.session.execute(
            update(gates)
            .where(gates.c.id == gate_id, gates.c.verdict.is_(None))
            .values(verdict=verdict.value, reason=reason, decided_at=now, report_due=None)
        )
        return bool(done.rowcount)  # type: ignore[attr-defined]

    async def report(self, gate_id: int, state: str) -> bool:
        """A progress report of STATE is due, once per state the release enters."""
        gates = table(GitHubGateRow)
        done = await self.session.execute(
            update(gates)
            .where(
                gates.c.id == gate_id,
                gates.c.verdict.is_(None),
                or_(gates.c.reported.is_(None), gates.c.reported != state),
                or_(gates.c.report_due.is_(None), gates.c.report_due != state),
            )
            .values(report_due=state)
        )
        return bool(done.rowcount)  # type: ignore[attr-defined]

    def _due(self) -> list[Any]:
        """An answer or report to send, not refused, not held by a live lease, and past
        its backoff."""
        return [
            GitHubGateRow.refused.is_(None),
            GitHubGateRow.sent_at.is_(None),
            or_(GitHubGateRow.verdict.is_not(None), GitHubGateRow.report_due.is_not(None)),
            or_(GitHubGateRow.lease_until.is_(None), GitHubGateRow.lease_until < self._now()),
            or_(
                GitHubGateRow.next_attempt_at.is_(None),
                GitHubGateRow.next_attempt_at <= self._now(),
            ),
        ]

    async def any_unsent(self) -> bool:
        """Whether `claim_unsent` would find anything: a read, so a transaction that finds
        nothing writes nothing."""
        found = await self.session.execute(select(GitHubGateRow.id).where(*self._due()).limit(1))
        return found.first() is not None

    async def claim_unsent(
        self, holder: str, lease: float, limit: int = 20
    ) -> list[tuple[Gate, int, str | None]]:
        """Answers and reports due and not sent, HOLDER's for LEASE seconds (other replicas
        skip them): (gate, installation id, the report's state or None for the answer)."""
        query = (
            select(GitHubGateRow.id)
            .where(*self._due())
            .order_by(GitHubGateRow.id)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        ids = list((await self.session.scalars(query)).all())
        if not ids:
            return []
        gates = table(GitHubGateRow)
        await self.session.execute(
            update(gates)
            .where(gates.c.id.in_(ids))
            .values(holder=holder, lease_until=self._later(lease), attempts=gates.c.attempts + 1)
        )
        found = await self.session.execute(
            select(*columns(GitHubGateRow))
            .where(GitHubGateRow.id.in_(ids))
            .order_by(GitHubGateRow.id)
        )
        return [
            (_gate(r), r.installation_id, None if r.verdict else r.report_due) for r in found.all()
        ]

    async def sent(self, gate_id: int, holder: str, report: str | None, now: datetime) -> None:
        """GitHub took the answer (REPORT: the progress report of that state)."""
        gates = table(GitHubGateRow)
        values: dict[str, Any] = {"holder": None, "lease_until": None, "last_error": None}
        if report is None:
            values["sent_at"] = now
        else:
            values |= {"reported": report, "reports": gates.c.reports + 1, "report_due": None}
        await self.session.execute(
            update(gates).where(gates.c.id == gate_id, gates.c.holder == holder).values(**values)
        )

    async def failed(
        self, gate_id: int, holder: str, error: str, retry_at: datetime | None, report: str | None
    ) -> None:
        """GitHub didn't take it: try again at RETRY_AT, or (None) it refused for good."""
        gates = table(GitHubGateRow)
        values: dict[str, Any] = {"holder": None, "lease_until": None, "last_error": error}
        if retry_at is not None:
            values["next_attempt_at"] = retry_at
        elif report is not None:  # a report refused: the answer itself may still go
            values |= {"report_due": None, "reported": report}
        else:
            values["refused"] = error
        await self.session.execute(
            update(gates).where(gates.c.id == gate_id, gates.c.holder == holder).values(**values)
        )
