"""One transaction's repositories, one per aggregate, and what happens once it commits."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.audit import AuditRepository
from bot.db.checks import CheckRepository
from bot.db.coordination import CoordinationRepository
from bot.db.freezes import FreezeRepository
from bot.db.github import GitHubRepository
from bot.db.marks import MarkRepository
from bot.db.monitoring import MonitoringRepository
from bot.db.outbox import OutboxRepository
from bot.db.releases import ReleaseRepository
from bot.db.signatures import SignatureRepository
from bot.db.waivers import WaiverRepository
from bot.domain.model import Release
from bot.domain.view import Facts


class UnitOfWork:
    """What a use-case reads and writes in one transaction (`Database.read()`/`write()`).

    `on_commit` work runs once the transaction is on disk, never after a rollback: a
    transaction that queued a notice or touched a card wakes the sender that way.
    """

    def __init__(
        self,
        session: AsyncSession,
        wake: Callable[[], None],
        legacy: str | None = None,
        dialect: str = "sqlite",
        writing: bool = False,
        now: Callable[[], datetime] | None = None,
    ) -> None:
        self.session = session
        self.now = now  # the services' clock: a view's freezes are as of then
        self.dialect = dialect
        # A write on PostgreSQL locks a release's row before reading what its view is built
        # from: a concurrent write to it (another replica's) commits first, and is seen.
        self.locks = writing and dialect == "postgresql"
        self._wake = wake
        self.legacy = legacy  # whose are releases from before products ('' in the table)
        self._after: list[Callable[[], None]] = []
        self.releases = ReleaseRepository(self)
        self.signatures = SignatureRepository(self)
        self.checks = CheckRepository(self)
        self.outbox = OutboxRepository(self)
        self.audit = AuditRepository(self)
        self.monitoring = MonitoringRepository(self)
        self.marks = MarkRepository(self)
        self.coordination = CoordinationRepository(self)
        self.github = GitHubRepository(self)
        self.freezes = FreezeRepository(self)
        self.waivers = WaiverRepository(self)

    async def serialise(self, key: int) -> None:
        """From here to the commit, no other transaction (of any process) holding KEY runs:
        PostgreSQL's transaction-level advisory lock. SQLite has one writer already."""
        if self.dialect == "postgresql":
            await self.session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": key})

    def on_commit(self, work: Callable[[], None]) -> None:
        self._after.append(work)

    def outbox_changed(self) -> None:
        """Something for Slack was queued (a notice, a card version): wake the sender."""
        if self._wake not in self._after:
            self._after.append(self._wake)

    @property
    def wakes(self) -> bool:
        """This transaction queued something for Slack."""
        return self._wake in self._after

    def committed(self) -> None:
        for work in self._after:
            work()
        self._after.clear()

    async def facts(self, release: Release) -> Facts:
        """Everything the release's view is built from."""
        release_id = release.id
        if self.locks:
            await self.releases.lock(release_id)
        deployed = release.deployed_at is not None
        return Facts(
            release=release,
            signatures=tuple(await self.signatures.live(release_id)),
            rejections=tuple(await self.signatures.rejections(release_id)),
            results=await self.checks.latest_results(release_id),
            ticks=await self.checks.ticks(release_id),
            run=await self.checks.latest_run(release_id),
            digests=await self.marks.digests(release_id) if deployed else frozenset(),
            breaching=await self.monitoring.breaching(release_id) if deployed else (),
            rollback=await self.monitoring.rollback(release_id) if deployed else None,
            gates=await self.github.gates_of(release_id),
            exceptions=await self.freezes.exceptions(release_id),
            waivers=await self.waivers.of(release_id),
            now=self.now() if self.now is not None else None,
        )
