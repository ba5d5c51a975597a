"""Gathering a release's sign-off document from the database (read-only)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from sqlalchemy import func, select

from bot.clock import Clock, SystemClock
from bot.config import Settings
from bot.db import Database, Repo
from bot.db.repo import GENESIS
from bot.db.tables import AuditRow, OutboxRow
from bot.domain.document import AuditHead, DigestRecord, SignoffDocument, digest_record
from bot.domain.errors import NotFound
from bot.services.audit import verify_chain
from bot.services.records import load_release, load_view
from bot.text import clean


class Sources(Protocol):
    """What an export reads: `Deps` in the bot; a database and the settings from the CLI."""

    @property
    def settings(self) -> Settings: ...

    @property
    def db(self) -> Database: ...

    @property
    def clock(self) -> Clock: ...


@dataclass(frozen=True)
class Offline:
    settings: Settings
    db: Database
    clock: Clock


class ExportService:
    def __init__(self, deps: Sources) -> None:
        self.deps = deps

    async def document(self, release_id: int) -> SignoffDocument:
        """Everything about the release read in one transaction (one consistent snapshot),
        sealed with the audit log's head as of that snapshot."""
        app = self.deps.settings.app
        post_ids = {item.id for item in app.post_deploy.items}
        async with self.deps.db.read() as repo:
            release = await load_release(repo, release_id)
            view = await load_view(repo, app, release)
            results = await repo.latest_results(release_id)
            alerts = await repo.breaches(release_id)
            digests = await _digests(repo, release_id)
            head, events = await _head(repo)
        chain = await verify_chain(self.deps.db)
        return SignoffDocument(
            view=view,
            checklist_version=app.version,
            generated_at=self.deps.clock.now(),
            audit=AuditHead(head, events, chain.problem),
            phases=tuple(app.post_deploy.phases),
            post_items=tuple(app.post_deploy.items),
            post_results={k: v for k, v in results.items() if k in post_ids},
            digests=digests,
            alerts=tuple(alerts),
        )

    async def document_named(self, name: str) -> SignoffDocument:
        """By the release's name (as `readiness export NAME` gives it); NotFound otherwise."""
        wanted = " ".join(clean(name).split())
        async with self.deps.db.read() as repo:
            release = await repo.release_by_name(wanted) if wanted else None
        if release is None:
            raise NotFound(f"There is no release named “{wanted}”.")
        return await self.document(release.id)


async def _digests(repo: Repo, release_id: int) -> tuple[DigestRecord, ...]:
    """The digests posted so far: MonitorService queues each with its facts (kind "digest")."""
    rows = await repo.session.execute(
        select(OutboxRow.data, OutboxRow.created_at)
        .where(OutboxRow.release_id == release_id, OutboxRow.kind == "digest")
        .order_by(OutboxRow.id)
    )
    return tuple(digest_record(data, at) for data, at in rows.all() if data)


async def _head(repo: Repo) -> tuple[str, int]:
    """The newest audit event's hash and the number of events up to it."""
    count = await repo.session.scalar(select(func.count()).select_from(AuditRow))
    last = (
        await repo.session.scalars(select(AuditRow.hash).order_by(AuditRow.id.desc()).limit(1))
    ).first()
    return last or GENESIS, int(count or 0)


async def export_release(settings: Settings, name: str) -> SignoffDocument:
    """For the command line: open the database, read the document, close."""
    db = Database(settings.env.database_url)
    try:
        return await ExportService(Offline(settings, db, SystemClock())).document_named(name)
    finally:
        await db.close()
