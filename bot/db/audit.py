"""The audit log: append-only (triggers refuse UPDATE and DELETE), one hash chain."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from sqlalchemy import Text, func, select, type_coerce

from bot.db.repository import Repository
from bot.db.tables import AuditRow
from bot.domain.audit import GENESIS, AuditEvent, audit_hash

AUDIT_CHAIN = 0x72656164_61756469  # the advisory lock key of the chain's head ("readaudi")


def _data(raw: str | dict[str, Any] | None) -> dict[str, Any] | None:
    """The event's data as stored (PostgreSQL's driver hands JSON over parsed already)."""
    if isinstance(raw, dict):
        return raw
    try:
        data = json.loads(raw or "")
    except (TypeError, ValueError):
        return None
    return data if isinstance(data, dict) else None


class AuditRepository(Repository):
    async def append(
        self,
        kind: str,
        now: datetime,
        release_id: int | None = None,
        actor: str | None = None,
        **data: Any,
    ) -> str:
        """Append an event to the hash chain; returns its hash. Call inside a write: the
        chain's head is held until it commits, so writers of every process append in turn."""
        await self.uow.serialise(AUDIT_CHAIN)
        prev = (
            await self.session.scalars(select(AuditRow.hash).order_by(AuditRow.id.desc()).limit(1))
        ).first() or GENESIS
        digest = audit_hash(prev, now, release_id, actor, kind, data)
        await self._insert(
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
        return digest

    async def head(self) -> tuple[str, int]:
        """The newest event's hash and the number of events up to it."""
        count = await self.session.scalar(select(func.count()).select_from(AuditRow))
        last = (
            await self.session.scalars(select(AuditRow.hash).order_by(AuditRow.id.desc()).limit(1))
        ).first()
        return last or GENESIS, int(count or 0)

    async def events(
        self, release_id: int | None = None, after: int = 0, limit: int | None = None
    ) -> list[AuditEvent]:
        """Events in chain order, their data as stored (an edit that broke its JSON is
        `data=None`): what verification walks."""
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
        found = (await self.session.execute(query)).all()
        return [
            AuditEvent(
                r.id, r.at, r.release_id, r.actor, r.kind, _data(r.data), r.prev_hash, r.hash
            )
            for r in found
        ]
