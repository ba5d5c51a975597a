"""Repository: the queries the services need, returning domain values."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.authorization import AuthorizationQueries
from bot.db.monitoring import MonitoringQueries
from bot.db.tables import (
    AuditRow,
    CheckResultRow,
    CheckRunRow,
    OutboxRow,
    RejectionRow,
    ReleaseRow,
    SignatureRow,
    TickRow,
)
from bot.domain.model import (
    PRE_DEPLOY,
    CheckRunProgress,
    ItemStatus,
    LatestResult,
    Rejection,
    Release,
    ReleaseState,
    Signature,
    Tick,
)

GENESIS = "0" * 64


def _release(row: ReleaseRow) -> Release:
    return Release(
        id=row.id,
        name=row.name,
        channel=row.channel,
        state=ReleaseState(row.state),
        created_by=row.created_by,
        created_at=row.created_at,
        ref=row.ref,
        card_ts=row.card_ts,
        approved_at=row.approved_at,
        closed_by=row.closed_by,
        window_start=row.window_start,
        window_end=row.window_end,
        deploy_team=tuple(row.deploy_team or ()),
        rollback_plan=row.rollback_plan,
        deployed_at=row.deployed_at,
        deployed_by=row.deployed_by,
    )


def _link(values: dict[str, Any] | None) -> str | None:
    """The CI run a pushed result points to, if it gave one."""
    url = (values or {}).get("url")
    return url if isinstance(url, str) and url.startswith(("https://", "http://")) else None


def _signature(row: SignatureRow) -> Signature:
    return Signature(
        id=row.id,
        role_id=row.role_id,
        user_id=row.user_id,
        signed_at=row.signed_at,
        attestations=tuple(row.attestations),
        comment=row.comment,
        evidence=row.evidence,
    )


def audit_hash(
    prev_hash: str,
    at: datetime,
    release_id: int | None,
    actor: str | None,
    kind: str,
    data: dict[str, Any],
) -> str:
    """SHA-256 over the previous event's hash and this event's content."""
    content = json.dumps(
        {
            "at": at.isoformat(),
            "release_id": release_id,
            "actor": actor,
            "kind": kind,
            "data": data,
        },
        sort_keys=True,
        separators=(",", ":"),
        default=str,
    )
    return hashlib.sha256(f"{prev_hash}\n{content}".encode()).hexdigest()


@dataclass(frozen=True)
class PendingMessage:
    id: int
    release_id: int
    channel: str
    thread_ts: str
    text: str
    blocks: list[Any] | None
    in_thread: bool = True
    kind: str | None = None  # rendered by the Slack side from `data`
    data: dict[str, Any] | None = None
    attempts: int = 0  # > 0: an earlier try may have reached Slack before a crash
    created_at: datetime | None = None


@dataclass(frozen=True)
class PendingCard:
    release_id: int
    channel: str
    card_ts: str | None
    version: int
    attempted: bool = False  # the first post was tried: it may be in the channel already


class Repo(MonitoringQueries, AuthorizationQueries):
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    # --- releases ---------------------------------------------------------------------------

    async def add_release(
        self,
        name: str,
        channel: str,
        ref: str | None,
        created_by: str,
        now: datetime,
        config_version: str,
    ) -> Release:
        row = ReleaseRow(
            name=name,
            channel=channel,
            ref=ref,
            state=ReleaseState.OPEN.value,
            created_by=created_by,
            created_at=now,
            updated_at=now,
            config_version=config_version,
        )
        self.session.add(row)
        await self.session.flush()
        return _release(row)

    async def release(self, release_id: int) -> Release | None:
        row = await self.session.get(ReleaseRow, release_id)
        return None if row is None else _release(row)

    async def release_by_name(self, name: str) -> Release | None:
        """The live release of that name (case-insensitive), else the newest cancelled one."""
        rows = (
            await self.session.scalars(
                select(ReleaseRow)
                .where(func.lower(ReleaseRow.name) == name.lower())
                .order_by(
                    (ReleaseRow.state == ReleaseState.CANCELLED.value).asc(), ReleaseRow.id.desc()
                )
                .limit(1)
            )
        ).all()
        return _release(rows[0]) if rows else None

    async def releases(
        self,
        states: Sequence[ReleaseState] | None = None,
        channel: str | None = None,
        limit: int = 50,
    ) -> list[Release]:
        query = select(ReleaseRow).order_by(ReleaseRow.id.desc()).limit(limit)
        if states is not None:
            query = query.where(ReleaseRow.state.in_([s.value for s in states]))
        if channel is not None:
            query = query.where(ReleaseRow.channel == channel)
        return [_release(row) for row in (await self.session.scalars(query)).all()]

    async def newest_active(self, channel: str | None) -> Release | None:
        found = await self.releases(sorted(PRE_DEPLOY), channel=channel, limit=1)
        return found[0] if found else None

    async def set_ref(self, release_id: int, ref: str, now: datetime) -> None:
        await self.session.execute(
            update(ReleaseRow).where(ReleaseRow.id == release_id).values(ref=ref, updated_at=now)
        )

    async def set_state(
        self, release_id: int, state: ReleaseState, now: datetime, closed_by: str | None = None
    ) -> None:
        values: dict[str, Any] = {"state": state.value, "updated_at": now}
        if state is ReleaseState.APPROVED:
            values["approved_at"] = func.coalesce(ReleaseRow.approved_at, now)
        if closed_by is not None:
            values["closed_by"] = closed_by
        await self.session.execute(
            update(ReleaseRow).where(ReleaseRow.id == release_id).values(**values)
        )

    # --- the card ---------------------------------------------------------------------------

    async def touch_card(self, release_id: int) -> None:
        """The card must be re-rendered: bump its version (updates coalesce on it)."""
        await self.session.execute(
            update(ReleaseRow)
            .where(ReleaseRow.id == release_id)
            .values(card_version=ReleaseRow.card_version + 1)
        )

    async def pending_cards(self) -> list[PendingCard]:
        rows = (
            await self.session.execute(
                select(
                    ReleaseRow.id,
                    ReleaseRow.channel,
                    ReleaseRow.card_ts,
                    ReleaseRow.card_version,
                    ReleaseRow.card_attempted,
                )
                .where(ReleaseRow.card_version > ReleaseRow.card_sent_version)
                .order_by(ReleaseRow.id)
            )
        ).all()
        return [
            PendingCard(r.id, r.channel, r.card_ts, r.card_version, r.card_attempted) for r in rows
        ]

    async def card_attempt(self, release_id: int) -> None:
        await self.session.execute(
            update(ReleaseRow).where(ReleaseRow.id == release_id).values(card_attempted=True)
        )

    async def card_sent(self, release_id: int, version: int, card_ts: str | None = None) -> None:
        values: dict[str, Any] = {
            "card_sent_version": func.max(ReleaseRow.card_sent_version, version)
        }
        if card_ts is not None:
            values["card_ts"] = card_ts
        await self.session.execute(
            update(ReleaseRow).where(ReleaseRow.id == release_id).values(**values)
        )

    # --- outbox -----------------------------------------------------------------------------

    async def enqueue(
        self,
        release_id: int,
        text: str,
        now: datetime,
        blocks: list[Any] | None = None,
        *,
        in_thread: bool = True,
        kind: str | None = None,
        data: dict[str, Any] | None = None,
    ) -> None:
        """A message for the release's card thread (or the channel); sent once the card is
        posted, in order. `kind` + `data`: the Slack side renders it (buttons, a digest)."""
        self.session.add(
            OutboxRow(
                release_id=release_id,
                text=text,
                blocks=blocks,
                in_thread=in_thread,
                kind=kind,
                data=data,
                created_at=now,
                attempts=0,
            )
        )

    async def pending_messages(self, limit: int = 100) -> list[PendingMessage]:
        rows = (
            await self.session.execute(
                select(OutboxRow, ReleaseRow.channel, ReleaseRow.card_ts)
                .join(ReleaseRow, ReleaseRow.id == OutboxRow.release_id)
                .where(OutboxRow.sent_at.is_(None), ReleaseRow.card_ts.is_not(None))
                .order_by(OutboxRow.id)
                .limit(limit)
            )
        ).all()
        return [
            PendingMessage(
                o.id,
                o.release_id,
                channel,
                str(ts),
                o.text,
                o.blocks,
                o.in_thread,
                o.kind,
                o.data,
                o.attempts,
                o.created_at,
            )
            for o, channel, ts in rows
        ]

    async def message_sent(self, message_id: int, now: datetime) -> None:
        await self.session.execute(
            update(OutboxRow).where(OutboxRow.id == message_id).values(sent_at=now)
        )

    async def message_attempt(self, message_id: int) -> None:
        """Counted before the call: a crash after Slack took it leaves the count behind."""
        await self.session.execute(
            update(OutboxRow)
            .where(OutboxRow.id == message_id)
            .values(attempts=OutboxRow.attempts + 1)
        )

    async def message_failed(
        self, message_id: int, error: str, give_up: bool, now: datetime
    ) -> None:
        values: dict[str, Any] = {"last_error": error[:500]}
        if give_up:
            values["sent_at"] = now  # leaves the queue; last_error says why
        await self.session.execute(
            update(OutboxRow).where(OutboxRow.id == message_id).values(**values)
        )

    # --- signatures and rejections ----------------------------------------------------------

    async def signatures(self, release_id: int) -> list[Signature]:
        rows = await self.session.scalars(
            select(SignatureRow)
            .where(SignatureRow.release_id == release_id, SignatureRow.withdrawn_at.is_(None))
            .order_by(SignatureRow.id)
        )
        return [_signature(row) for row in rows.all()]

    async def add_signature(
        self,
        release_id: int,
        role_id: str,
        user_id: str,
        attestations: Sequence[str],
        comment: str | None,
        evidence: dict[str, Any],
        now: datetime,
    ) -> Signature:
        digest = hashlib.sha256(
            json.dumps(evidence, sort_keys=True, separators=(",", ":")).encode()
        ).hexdigest()
        row = SignatureRow(
            release_id=release_id,
            role_id=role_id,
            user_id=user_id,
            attestations=list(attestations),
            comment=comment,
            signed_at=now,
            evidence=evidence,
            evidence_hash=digest,
        )
        self.session.add(row)
        await self.session.flush()
        return _signature(row)

    async def withdraw_signature(self, signature_id: int, now: datetime) -> None:
        await self.session.execute(
            update(SignatureRow).where(SignatureRow.id == signature_id).values(withdrawn_at=now)
        )

    async def rejections(self, release_id: int) -> list[Rejection]:
        rows = await self.session.scalars(
            select(RejectionRow)
            .where(RejectionRow.release_id == release_id, RejectionRow.withdrawn_at.is_(None))
            .order_by(RejectionRow.id)
        )
        return [Rejection(r.id, r.user_id, r.reason, r.created_at) for r in rows.all()]

    async def add_rejection(
        self, release_id: int, user_id: str, reason: str, now: datetime
    ) -> None:
        self.session.add(
            RejectionRow(release_id=release_id, user_id=user_id, reason=reason, created_at=now)
        )
        await self.session.flush()

    async def withdraw_rejection(self, rejection_id: int, now: datetime) -> None:
        await self.session.execute(
            update(RejectionRow).where(RejectionRow.id == rejection_id).values(withdrawn_at=now)
        )

    # --- manual items -----------------------------------------------------------------------

    async def ticks(self, release_id: int) -> dict[str, Tick]:
        rows = await self.session.execute(  # columns, not entities: read on every view
            select(TickRow.item_id, TickRow.user_id, TickRow.ticked_at).where(
                TickRow.release_id == release_id
            )
        )
        return {r.item_id: Tick(r.item_id, r.user_id, r.ticked_at) for r in rows.all()}

    async def tick(self, release_id: int, item_id: str, user_id: str, now: datetime) -> None:
        self.session.add(
            TickRow(release_id=release_id, item_id=item_id, user_id=user_id, ticked_at=now)
        )
        await self.session.flush()

    async def untick(self, release_id: int, item_id: str) -> None:
        await self.session.execute(
            delete(TickRow).where(TickRow.release_id == release_id, TickRow.item_id == item_id)
        )

    # --- check runs and results -------------------------------------------------------------

    async def start_run(
        self, release_id: int, trigger: str, actor: str | None, total: int, now: datetime
    ) -> int:
        row = CheckRunRow(
            release_id=release_id, trigger=trigger, actor=actor, started_at=now, total=total, done=0
        )
        self.session.add(row)
        await self.session.flush()
        return row.id

    async def add_result(
        self,
        release_id: int,
        run_id: int | None,
        item_id: str,
        status: str,
        reason: str,
        values: dict[str, Any],
        duration_ms: float,
        now: datetime,
    ) -> None:
        previous = (
            await self.session.execute(
                select(CheckResultRow.status, CheckResultRow.changed_at)
                .where(CheckResultRow.release_id == release_id, CheckResultRow.item_id == item_id)
                .order_by(CheckResultRow.id.desc())
                .limit(1)
            )
        ).first()
        self.session.add(
            CheckResultRow(
                release_id=release_id,
                run_id=run_id,
                item_id=item_id,
                status=status,
                reason=reason,
                values=values,
                duration_ms=duration_ms,
                finished_at=now,
                changed_at=previous.changed_at if previous and previous.status == status else now,
            )
        )
        if run_id is not None:
            await self.session.execute(
                update(CheckRunRow)
                .where(CheckRunRow.id == run_id)
                .values(done=CheckRunRow.done + 1)
            )

    async def finish_run(self, run_id: int, now: datetime) -> None:
        """The run is over; its card must drop the progress line."""
        release_id = await self.session.scalar(
            update(CheckRunRow)
            .where(CheckRunRow.id == run_id)
            .values(finished_at=now)
            .returning(CheckRunRow.release_id)
        )
        if release_id is not None:
            await self.touch_card(release_id)

    async def finish_abandoned_runs(self, now: datetime) -> int:
        """Runs a previous process left unfinished (it stopped mid-run); their cards are
        re-rendered without the progress line."""
        release_ids = (
            await self.session.scalars(
                update(CheckRunRow)
                .where(CheckRunRow.finished_at.is_(None))
                .values(finished_at=now)
                .returning(CheckRunRow.release_id)
            )
        ).all()
        for release_id in set(release_ids):
            await self.touch_card(release_id)
        return len(release_ids)

    async def latest_run(self, release_id: int) -> CheckRunProgress | None:
        """The checklist's latest run (post-deploy runs are monitoring, shown apart)."""
        row = (
            await self.session.scalars(
                select(CheckRunRow)
                .where(CheckRunRow.release_id == release_id, CheckRunRow.phase.is_(None))
                .order_by(CheckRunRow.id.desc())
                .limit(1)
            )
        ).first()
        if row is None:
            return None
        return CheckRunProgress(row.total, row.done, row.finished_at is not None)

    async def latest_results(self, release_id: int) -> dict[str, LatestResult]:
        newest = (
            select(func.max(CheckResultRow.id))
            .where(CheckResultRow.release_id == release_id)
            .group_by(CheckResultRow.item_id)
        )
        rows = await self.session.execute(  # columns, not entities: read on every view
            select(
                CheckResultRow.item_id,
                CheckResultRow.status,
                CheckResultRow.reason,
                CheckResultRow.finished_at,
                CheckResultRow.duration_ms,
                CheckResultRow.changed_at,
                CheckResultRow.values,
            ).where(CheckResultRow.id.in_(newest))
        )
        return {
            r.item_id: LatestResult(
                r.item_id,
                ItemStatus(r.status),
                r.reason,
                r.finished_at,
                r.duration_ms,
                r.changed_at,
                _link(r.values),
            )
            for r in rows.all()
        }

    # --- audit ------------------------------------------------------------------------------

    async def audit(
        self,
        kind: str,
        now: datetime,
        release_id: int | None = None,
        actor: str | None = None,
        **data: Any,
    ) -> str:
        """Append an event to the hash chain; returns its hash. Call inside a write()."""
        prev = (
            await self.session.scalars(select(AuditRow.hash).order_by(AuditRow.id.desc()).limit(1))
        ).first() or GENESIS
        digest = audit_hash(prev, now, release_id, actor, kind, data)
        self.session.add(
            AuditRow(
                at=now,
                release_id=release_id,
                actor=actor,
                kind=kind,
                data=data,
                prev_hash=prev,
                hash=digest,
            )
        )
        await self.session.flush()
        return digest

    async def audit_events(self, release_id: int | None = None) -> list[AuditRow]:
        query = select(AuditRow).order_by(AuditRow.id)
        if release_id is not None:
            query = query.where(AuditRow.release_id == release_id)
        return list((await self.session.scalars(query)).all())
