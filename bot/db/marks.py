"""What must happen once: schedule marks (a digest, a reminder, a run slot) and Events API
deliveries. Each is a unique key written in the transaction that does the work, so a
restart, a retry or an overlapping tick can't do it twice."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, select

from bot.db.repository import Repository
from bot.db.tables import MarkRow, SeenEventRow

DIGEST = "digest:"  # + phase id


class MarkRepository(Repository):
    async def mark(
        self,
        release_id: int,
        key: str,
        due_at: datetime,
        now: datetime,
        late: bool = False,
        data: dict[str, Any] | None = None,
    ) -> bool:
        """Record that `key` is done for this release; False when it already was.

        Call it in the transaction that queues the work: the unique key makes the
        decision and the work one atomic step, across restarts and concurrent ticks.
        """
        return await self._insert_new(
            MarkRow,
            ["release_id", "key"],
            release_id=release_id,
            key=key,
            due_at=due_at,
            done_at=now,
            late=late,
            data=data or {},
        )

    async def keys(self, release_id: int, prefix: str = "") -> set[str]:
        """The marks of a release whose key starts with PREFIX."""
        found = await self.session.scalars(
            select(MarkRow.key).where(
                MarkRow.release_id == release_id, MarkRow.key.startswith(prefix)
            )
        )
        return set(found.all())

    async def digests(self, release_id: int) -> frozenset[str]:
        """The phases whose digest is recorded."""
        return frozenset(k.removeprefix(DIGEST) for k in await self.keys(release_id, DIGEST))

    async def first_delivery(self, event_id: str, now: datetime) -> bool:
        """Record an Events API delivery; False when this event was handled already.
        Entries older than a day are forgotten (Slack retries within minutes)."""
        await self.session.execute(
            delete(SeenEventRow).where(SeenEventRow.received_at < now - timedelta(days=1))
        )
        return await self._insert_new(
            SeenEventRow, ["event_id"], event_id=event_id, received_at=now
        )
