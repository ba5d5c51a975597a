"""Signatures and rejections: live until withdrawn, never deleted."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, select

from bot.db import rows
from bot.db.repository import Repository, columns
from bot.db.tables import RejectionRow, SignatureRow
from bot.domain.model import Rejection, Signature

# Read on every view: built once (building and keying a statement costs more than SQLite
# takes to run it).
_LIVE = (
    select(*columns(SignatureRow))
    .where(SignatureRow.release_id == bindparam("release"), SignatureRow.withdrawn_at.is_(None))
    .order_by(SignatureRow.id)
)
_REJECTIONS = (
    select(RejectionRow.id, RejectionRow.user_id, RejectionRow.reason, RejectionRow.created_at)
    .where(RejectionRow.release_id == bindparam("release"), RejectionRow.withdrawn_at.is_(None))
    .order_by(RejectionRow.id)
)


class SignatureRepository(Repository):
    async def live(self, release_id: int) -> list[Signature]:
        found = await self.session.execute(_LIVE, {"release": release_id})
        return [rows.signature(row) for row in found.all()]

    async def add(
        self,
        release_id: int,
        role_id: str,
        user_id: str,
        attestations: Sequence[str],
        comment: str | None,
        evidence: dict[str, Any],
        now: datetime,
    ) -> Signature:
        """Raises Conflict (out of the transaction) if USER already holds a live slot."""
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
        return rows.signature(await self._insert(row))

    async def withdraw(self, signature_id: int, now: datetime) -> None:
        await self._update(SignatureRow, signature_id, withdrawn_at=now)

    async def rejections(self, release_id: int) -> list[Rejection]:
        found = await self.session.execute(_REJECTIONS, {"release": release_id})
        return [Rejection(r.id, r.user_id, r.reason, r.created_at) for r in found.all()]

    async def withdrawn_rejections(self, release_id: int) -> list[Rejection]:
        """Rejections their authors withdrew, oldest first (the export's history)."""
        found = await self.session.execute(
            select(*columns(RejectionRow))
            .where(RejectionRow.release_id == release_id, RejectionRow.withdrawn_at.is_not(None))
            .order_by(RejectionRow.id)
        )
        return [
            Rejection(r.id, r.user_id, r.reason, r.created_at, r.withdrawn_at) for r in found.all()
        ]

    async def reject(self, release_id: int, user_id: str, reason: str, now: datetime) -> Rejection:
        row = RejectionRow(release_id=release_id, user_id=user_id, reason=reason, created_at=now)
        return Rejection((await self._insert(row)).id, user_id, reason, now)

    async def withdraw_rejection(self, rejection_id: int, now: datetime) -> None:
        await self._update(RejectionRow, rejection_id, withdrawn_at=now)
