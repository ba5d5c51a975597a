"""What replicas sharing one database agree on through it: requests already accepted, the
scheduled jobs each claims under a lease, and which replica sends each channel's messages.

Leases are reckoned on the database's clock (`now()`), never a replica's, and claimed with
`FOR UPDATE SKIP LOCKED` (a no-op on SQLite, which has one writer at a time anyway).
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, delete, func, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite

from bot.db.repository import Repository
from bot.db.tables import ChannelLeaseRow, JobRow, SeenRequestRow


class CoordinationRepository(Repository):
    def _now(self) -> ColumnElement[Any]:
        if self.uow.dialect == "postgresql":
            return func.now()
        return func.strftime("%Y-%m-%d %H:%M:%f", "now")  # as UTCDateTime stores it

    def _later(self, seconds: float) -> ColumnElement[Any]:
        if self.uow.dialect == "postgresql":
            return func.now() + timedelta(seconds=seconds)
        return func.strftime("%Y-%m-%d %H:%M:%f", "now", f"+{seconds:.3f} seconds")

    # --- signed requests --------------------------------------------------------------------

    async def first_request(self, key: str, now: datetime, keep: timedelta) -> bool:
        """Record a signed request's KEY; False when any replica accepted it already.
        Keys older than KEEP (past the signature's validity) are forgotten."""
        await self.session.execute(
            delete(SeenRequestRow).where(SeenRequestRow.seen_at < now - keep)
        )
        return await self._insert_new(SeenRequestRow, ["key"], key=key, seen_at=now)

    # --- jobs -------------------------------------------------------------------------------

    async def schedule(self, name: str, due_at: datetime) -> None:
        """The run of NAME due at DUE_AT exists once, whoever asks first."""
        await self._insert_new(JobRow, ["name", "due_at"], name=name, due_at=due_at)

    async def claim(
        self, holder: str, lease: float, name: str | None = None, limit: int = 1
    ) -> list[tuple[str, datetime]]:
        """Unfinished jobs nobody holds (or whose holder's lease ran out), oldest first,
        now HOLDER's for LEASE seconds; other replicas skip the rows this one locked."""
        query = (
            select(JobRow.name, JobRow.due_at)
            .where(
                JobRow.done_at.is_(None),
                or_(JobRow.lease_until.is_(None), JobRow.lease_until < self._now()),
            )
            .order_by(JobRow.due_at)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        if name is not None:
            query = query.where(JobRow.name == name)
        found = [(row.name, row.due_at) for row in (await self.session.execute(query)).all()]
        for job, due in found:
            await self.session.execute(
                update(JobRow)
                .where(JobRow.name == job, JobRow.due_at == due)
                .values(holder=holder, lease_until=self._later(lease), attempts=JobRow.attempts + 1)
            )
        return found

    async def finish(self, name: str, due_at: datetime, holder: str) -> bool:
        """NAME's run is done (False: HOLDER lost its lease, and another replica has it)."""
        done = await self.session.execute(
            update(JobRow)
            .where(JobRow.name == name, JobRow.due_at == due_at, JobRow.holder == holder)
            .values(done_at=self._now(), lease_until=None)
        )
        return bool(done.rowcount)  # type: ignore[attr-defined]

    # --- channels ---------------------------------------------------------------------------

    async def hold_channels(self, holder: str, channels: Collection[str], lease: float) -> set[str]:
        """Of CHANNELS, those HOLDER sends for LEASE seconds more: free ones, its own, and
        those whose holder's lease ran out. No other replica sends them meanwhile."""
        if not channels:
            return set()
        make = postgresql.insert if self.uow.dialect == "postgresql" else sqlite.insert
        statement = make(ChannelLeaseRow).values(
            [{"channel": c, "holder": holder, "until": self._later(lease)} for c in channels]
        )
        held = statement.on_conflict_do_update(
            index_elements=["channel"],
            set_={"holder": holder, "until": self._later(lease)},
            where=or_(ChannelLeaseRow.holder == holder, ChannelLeaseRow.until < self._now()),
        ).returning(ChannelLeaseRow.channel)
        return set((await self.session.scalars(held)).all())

    async def let_go_channels(self, holder: str) -> None:
        """HOLDER stops sending: its channels are another replica's to take at once."""
        await self.session.execute(delete(ChannelLeaseRow).where(ChannelLeaseRow.holder == holder))
