"""The audit log: append-only (triggers refuse UPDATE and DELETE), one hash chain; and
the checkpoints verification records of it (a table apart)."""

from __future__ import annotations

import json
from collections.abc import AsyncGenerator
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import Executable, Row, Text, func, inspect, select, type_coerce
from sqlalchemy.orm import Session

from bot.db.repository import Repository, columns
from bot.db.tables import AuditCheckpointRow, AuditRow
from bot.domain.audit import GENESIS, AuditEvent, Checkpoint, audit_hash

if TYPE_CHECKING:
    from bot.db.uow import UnitOfWork

AUDIT_CHAIN = 0x72656164_61756469  # the advisory lock key of the chain's head ("readaudi")
_HEAD = select(AuditRow.hash).order_by(AuditRow.id.desc()).limit(1)  # read on every append


def _data(raw: str | dict[str, Any] | None) -> dict[str, Any] | None:
    """The event's data as stored (PostgreSQL's driver hands JSON over parsed already)."""
    if isinstance(raw, dict):
        return raw
    try:
        data = json.loads(raw or "")
    except (TypeError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def _checkpoint(row: Any) -> Checkpoint:
    return Checkpoint(row.event_id, row.hash, row.count, row.verified_at)


class AuditRepository(Repository):
    def __init__(self, uow: UnitOfWork) -> None:
        super().__init__(uow)
        self._queued: list[tuple[str, datetime, int | None, str | None, dict[str, Any]]] = []

    async def append(
        self,
        kind: str,
        now: datetime,
        release_id: int | None = None,
        actor: str | None = None,
        **data: Any,
    ) -> None:
        """Add an event to the hash chain, in this write: it is linked onto the chain's
        head as the transaction commits (`link`), so the head is held only from there to
        the commit, and writers of every process append in turn, waiting as little as
        they can."""
        self._queued.append((kind, now, release_id, actor, data))

    async def link(self) -> None:
        """Chain the events appended in this transaction onto the head, in order (the
        write calls it last; a read of the log in the same write calls it first)."""
        if not self._queued:
            return
        await self.uow.serialise(AUDIT_CHAIN)
        prev = (await self.session.scalars(_HEAD)).first() or GENESIS
        for kind, now, release_id, actor, data in self._queued:
            digest = audit_hash(prev, now, release_id, actor, kind, data)
            row = AuditRow(
                at=now,
                release_id=release_id,
                actor=actor,
                kind=kind,
                data=data,
                prev_hash=prev,
                hash=digest,
            )
            await self._insert(row)
            prev = digest
        self._queued.clear()

    async def head(self) -> tuple[str, int]:
        """The newest event's hash and the number of events up to it: those after the
        newest checkpoint counted on from its count (what verification found before it)."""
        await self.link()
        checkpoint = await self.checkpoint()
        after, before = (checkpoint.event_id, checkpoint.count) if checkpoint else (0, 0)
        count = await self.session.scalar(
            select(func.count()).select_from(AuditRow).where(AuditRow.id > after)
        )
        last = (await self.session.scalars(_HEAD)).first()
        return last or GENESIS, before + int(count or 0)

    async def event_hash(self, event_id: int) -> str | None:
        """The hash stored with one event (None: there is no such event)."""
        await self.link()
        found = await self.session.scalars(select(AuditRow.hash).where(AuditRow.id == event_id))
        return found.first()

    # --- checkpoints: the heads verification verified ------------------------------------

    async def keeps_checkpoints(self) -> bool:
        """False on a database not yet upgraded to keep them (`readiness db upgrade`)."""

        def has(session: Session) -> bool:
            return inspect(session.connection()).has_table(AuditCheckpointRow.__tablename__)

        return await self.session.run_sync(has)

    async def checkpoint(self) -> Checkpoint | None:
        """The newest checkpoint, if verification has written one."""
        row = (
            await self.session.execute(
                select(*columns(AuditCheckpointRow)).order_by(AuditCheckpointRow.id.desc()).limit(1)
            )
        ).first()
        return None if row is None else _checkpoint(row)

    async def checkpoints(self) -> list[Checkpoint]:
        """Every checkpoint, oldest first: what a full walk checks the log against."""
        found = await self.session.execute(
            select(*columns(AuditCheckpointRow)).order_by(AuditCheckpointRow.id)
        )
        return [_checkpoint(row) for row in found.all()]

    async def add_checkpoint(self, event_id: int, digest: str, count: int, now: datetime) -> bool:
        """Record that the chain verified up to EVENT_ID (the COUNT-th event, hash DIGEST);
        False when a checkpoint at or past it is there already. Call inside a write."""
        newest = await self.checkpoint()
        if newest is not None and newest.event_id >= event_id:
            return False
        row = AuditCheckpointRow(event_id=event_id, hash=digest, count=count, verified_at=now)
        await self._insert(row)
        return True

    async def events(
        self, release_id: int | None = None, after: int = 0, limit: int | None = None
    ) -> list[AuditEvent]:
        """Events in chain order, their data as stored (an edit that broke its JSON is
        `data=None`): what verification walks."""
        await self.link()
        found = (await self.session.execute(_events(release_id, after, limit))).all()
        return [_event(r) for r in found]

    async def event_pages(
        self, after: int, limit: int, size: int
    ) -> AsyncGenerator[list[AuditEvent], None]:
        """`events` after AFTER (at most LIMIT), SIZE at a time as the driver hands them
        over: one query, its rows turned into events a few at a time, with a wait for the
        driver between (the event loop runs others' work meanwhile)."""
        await self.link()
        result = await self.session.stream(_events(None, after, limit))
        async for rows in result.partitions(size):
            yield [_event(r) for r in rows]


def _events(release_id: int | None, after: int, limit: int | None) -> Executable:
    query = (
        select(
            AuditRow.id,
            AuditRow.at,
            AuditRow.release_id,
            AuditRow.actor,
            AuditRow.kind,
            type_coerce(AuditRow.data, Text).label("data"),  # raw: may be edited
            AuditRow.prev_hash,
            AuditRow.hash,
        )
        .where(AuditRow.id > after)
        .order_by(AuditRow.id)
    )
    if release_id is not None:
        query = query.where(AuditRow.release_id == release_id)
    if limit is not None:
        query = query.limit(limit)
    return query


def _event(r: Row[Any]) -> AuditEvent:
    return AuditEvent(r.id, r.at, r.release_id, r.actor, r.kind, _data(r.data), r.prev_hash, r.hash)
