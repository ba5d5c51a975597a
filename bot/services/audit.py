"""Proving the record wasn't edited: walk the audit log's hash chain from the first event."""

from __future__ import annotations

import json
from dataclasses import dataclass

from sqlalchemy import Text, select, type_coerce

from bot.db import Database
from bot.db.repo import GENESIS, audit_hash
from bot.db.tables import AuditRow

BATCH = 1000


@dataclass(frozen=True)
class ChainReport:
    events: int
    head: str  # the last event's hash: what an export carries
    problem: str | None = None  # the first bad event, in words

    @property
    def ok(self) -> bool:
        return self.problem is None


async def verify_chain(db: Database) -> ChainReport:
    """Each event must hash its own content and its predecessor's hash; the first that
    doesn't is named (edited content, a deleted or inserted event, a forged hash)."""
    previous, count, last_id = GENESIS, 0, 0
    while True:
        async with db.read() as repo:
            rows = (
                await repo.session.execute(
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
                    .where(AuditRow.id > last_id)
                    .order_by(AuditRow.id)
                    .limit(BATCH)
                )
            ).all()
        if not rows:
            return ChainReport(count, previous)
        for row in rows:
            where = f"audit event {row.id} ({row.kind} at {row.at.isoformat()})"
            try:
                data = json.loads(row.data)
            except (TypeError, ValueError):
                return ChainReport(count, previous, f"{where}: its data is not JSON (edited)")
            if row.prev_hash != previous:
                return ChainReport(
                    count,
                    previous,
                    f"{where}: does not follow the event before it "
                    "(an event was deleted, inserted or reordered)",
                )
            expected = audit_hash(row.prev_hash, row.at, row.release_id, row.actor, row.kind, data)
            if row.hash != expected:
                return ChainReport(
                    count, previous, f"{where}: its content does not match its hash (edited)"
                )
            previous, count, last_id = row.hash, count + 1, row.id
