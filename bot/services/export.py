"""Gathering a release's sign-off document from the database (read-only)."""

from __future__ import annotations

from bot.domain.document import AuditHead, SignoffDocument, digest_record
from bot.domain.errors import NotFound
from bot.domain.notices import Digest
from bot.domain.text import clean
from bot.services.audit import verify_chain
from bot.services.deps import Service
from bot.services.finding import resolve
from bot.services.records import load_release, load_view


class ExportService(Service):
    async def document(self, release_id: int) -> SignoffDocument:
        """Everything about the release read in one transaction (one consistent snapshot),
        sealed with the audit log's head as of that snapshot."""
        app = await self.deps.config_of(release_id)
        post_ids = {item.id for item in app.post_deploy.items}
        async with self.deps.db.read() as uow:
            release = await load_release(uow, release_id)
            view = await load_view(uow, app, release)
            results = await uow.checks.latest_results(release_id)
            alerts = await uow.monitoring.breaches(release_id)
            withdrawn = await uow.signatures.withdrawn_rejections(release_id)
            digests = [
                digest_record(notice, at)
                for notice, at in await uow.outbox.notices(release_id, "digest")
                if isinstance(notice, Digest)
            ]
            head, events = await uow.audit.head()
        # On from the last verified checkpoint: the cost of what was appended since, not
        # of the whole log (`readiness audit verify --full` walks it all).
        chain = await verify_chain(self.deps.db, now=self.deps.clock.now)
        return SignoffDocument(
            view=view,
            checklist_version=app.version,
            generated_at=self.deps.clock.now(),
            audit=AuditHead(head, events, chain.problem),
            phases=tuple(app.post_deploy.phases),
            post_items=tuple(app.post_deploy.items),
            post_results={k: v for k, v in results.items() if k in post_ids},
            digests=tuple(digests),
            alerts=tuple(alerts),
            withdrawn_rejections=tuple(withdrawn),
        )

    async def document_named(self, name: str, product: str | None = None) -> SignoffDocument:
        """By the release's name (as `readiness export NAME [--product ID]` gives it), in
        PRODUCT or the one product that has it; NotFound (or Ambiguous) otherwise."""
        wanted = " ".join(clean(name).split())
        if not wanted:
            raise NotFound("Name the release to export.")
        async with self.deps.db.read() as uow:
            release = await resolve(uow, self.catalog, wanted, None, product)
        return await self.document(release.id)
