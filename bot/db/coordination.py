"""What replicas sharing one database agree on through it: requests already accepted, the
scheduled jobs each claims under a lease, which replica sends each channel's messages, and
which runs each check run (a dead one's runs taken over once its lease runs out).

Leases are reckoned on the database's clock (`now()`), never a replica's, and claimed with
`FOR UPDATE SKIP LOCKED` (a no-op on SQLite, which has one writer at a time anyway).
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite

from bot.db.repository import Repository
from bot.db.tables import ChannelLeaseRow, CheckResultRow, CheckRunRow, JobRow, SeenRequestRow


@dataclass(frozen=True)
class TakenRun:
    """A check run taken over from a replica that stopped renewing it: what it was of."""

    id: int
    release_id: int
    trigger: str
    actor: str | None
    phase: str | None  # a post-deploy phase's run (None: the checklist's)
    section: str | None  # the checklist's section it checks (None: all of it)


class CoordinationRepository(Repository):
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

    # --- check runs -------------------------------------------------------------------------

    async def own_run(self, run_id: int, holder: str, lease: float, section: str | None) -> None:
        """A run just started (in this transaction) is HOLDER's for LEASE seconds; SECTION
        is what it checks (None: the whole checklist, or its phase's items)."""
        await self.session.execute(
            update(CheckRunRow)
            .where(CheckRunRow.id == run_id)
            .values(holder=holder, lease_until=self._later(lease), section=section)
        )

    async def renew_run(self, run_id: int, holder: str, lease: float) -> bool:
        """HOLDER still runs it: its lease now ends LEASE seconds from now, and (on
        PostgreSQL) its row stays locked to the commit, so no replica takes over a run while
        a result of it is being recorded. False: HOLDER's lease ran out and another replica
        took the run over; HOLDER must record nothing more of it."""
        renewed = await self.session.execute(
            update(CheckRunRow)
            .where(CheckRunRow.id == run_id, CheckRunRow.holder == holder)
            .values(lease_until=self._later(lease))
        )
        return bool(renewed.rowcount)  # type: ignore[attr-defined]

    async def let_go_run(self, run_id: int, holder: str) -> bool:
        """HOLDER is stopping mid-run: the run's lease ends now, for another replica's next
        tick to take it over. False: it was no longer HOLDER's."""
        released = await self.session.execute(
            update(CheckRunRow)
            .where(
                CheckRunRow.id == run_id,
                CheckRunRow.holder == holder,
                CheckRunRow.finished_at.is_(None),
            )
            .values(lease_until=self._now())
        )
        return bool(released.rowcount)  # type: ignore[attr-defined]

    async def take_over_runs(
        self, holder: str, lease: float, monitoring: bool, limit: int = 4
    ) -> list[TakenRun]:
        """Unfinished runs whose holder's lease ran out (it died mid-run), oldest first, now
        HOLDER's for LEASE seconds: the checklist's, or (MONITORING) the post-deploy phases'.
        Other replicas skip the rows this one locked; on SQLite (one writer) the update's
        condition is the guard."""
        expired = (CheckRunRow.finished_at.is_(None), CheckRunRow.lease_until < self._now())
        phase = CheckRunRow.phase.is_not(None) if monitoring else CheckRunRow.phase.is_(None)
        query = (
            select(
                CheckRunRow.id,
                CheckRunRow.release_id,
                CheckRunRow.trigger,
                CheckRunRow.actor,
                CheckRunRow.phase,
                CheckRunRow.section,
            )
            .where(*expired, phase)
            .order_by(CheckRunRow.id)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        taken = []
        for row in (await self.session.execute(query)).all():
            claimed = await self.session.execute(
                update(CheckRunRow)
                .where(CheckRunRow.id == row.id, *expired)
                .values(holder=holder, lease_until=self._later(lease))
            )
            if claimed.rowcount:  # type: ignore[attr-defined]
                taken.append(TakenRun(*row))
        return taken

    async def run_results(self, release_id: int, run_id: int) -> dict[str, str]:
        """The items a run has recorded a result for, and each one's status."""
        found = await self.session.execute(
            select(CheckResultRow.item_id, CheckResultRow.status).where(
                CheckResultRow.release_id == release_id, CheckResultRow.run_id == run_id
            )
        )
        return {r.item_id: r.status for r in found.all()}

    async def close_left_runs(self, holder: str, now: datetime) -> int:
        """At start: the runs an earlier life of this process left unfinished (it stopped
        mid-run) are closed, their cards re-rendered without the progress line. On SQLite
        (one replica) every unfinished run is one; on PostgreSQL, those HOLDER held and
        those from before runs had holders, never another replica's: a live one's runs are
        its own, a dead one's are taken over once their lease runs out."""
        query = update(CheckRunRow).where(CheckRunRow.finished_at.is_(None))
        if self.uow.dialect == "postgresql":
            query = query.where(or_(CheckRunRow.holder == holder, CheckRunRow.holder.is_(None)))
        release_ids = (
            await self.session.scalars(
                query.values(finished_at=now).returning(CheckRunRow.release_id)
            )
        ).all()
        for release_id in set(release_ids):
            await self.uow.releases.touch_card(release_id)
        return len(release_ids)
