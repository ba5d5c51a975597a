"""The outbox: notices that must reach Slack, kept until sent (or given up on, with why)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, ClassVar

from sqlalchemy import func, select

from bot.db.repository import Repository, columns
from bot.db.tables import OutboxRow, ReleaseRow
from bot.domain import notices
from bot.domain.notices import Notice


@dataclass(frozen=True)
class PendingMessage:
    id: int
    release_id: int
    channel: str
    thread_ts: str
    text: str  # the notice's plain words (a row queued by an older version: its mrkdwn)
    notice: Notice | None  # None: a row of an older version, sent as its text and blocks
    blocks: list[Any] | None = None
    in_thread: bool = True
    attempts: int = 0  # > 0: an earlier try may have reached Slack before a crash
    created_at: datetime | None = None


ALERT, WAIVER = "alert", "waiver"  # the kinds of message edited in place


@dataclass(frozen=True)
class PendingEdit:
    """A message posted in a card's thread and edited as what it shows changes (a breach's
    alert, a waiver's request), whose newest version is not in Slack yet."""

    kind: str  # ALERT (ID is an alert message's) or WAIVER (ID is a waiver's)
    id: int
    release_id: int
    channel: str
    ts: str
    version: int


class EditedMessages(Repository):
    """A repository whose table holds messages edited in place (columns `ts`, `version`,
    `sent_version`): where each is, and which version Slack shows."""

    MESSAGES: ClassVar[Any]  # that table's row class (with a release_id)
    KIND: ClassVar[str]  # ALERT or WAIVER

    async def message_sent(self, row_id: int, version: int, ts: str | None = None) -> None:
        """Slack shows VERSION of the message (just posted at TS, if given). Never back:
        a landing recorded late is of an older version."""
        row = self.MESSAGES
        at = {"ts": ts} if ts else {}
        sent = self._greatest(row.sent_version, version)
        await self._update(row, row_id, sent_version=sent, **at)

    async def pending_messages(self) -> list[PendingEdit]:
        """Posted messages whose newest version is not in Slack yet."""
        row = self.MESSAGES
        found = await self.session.execute(
            select(row.id, row.release_id, ReleaseRow.channel, row.ts, row.version)
            .join(ReleaseRow, ReleaseRow.id == row.release_id)
            .where(row.ts.is_not(None), row.version > row.sent_version)
            .order_by(row.id)
        )
        return [
            PendingEdit(self.KIND, r.id, r.release_id, r.channel, str(r.ts), r.version)
            for r in found
        ]


class OutboxRepository(Repository):
    async def enqueue(self, release_id: int, notice: Notice, now: datetime) -> None:
        """A notice for the release's card thread (a digest: the channel); sent once the
        card is posted, in order. The sender is woken when the transaction commits."""
        await self._insert(
            OutboxRow(
                release_id=release_id,
                text=str(notice.phrase()),
                in_thread=notice.kind not in notices.IN_CHANNEL,
                kind=notice.kind,
                data=notices.encode(notice),
                created_at=now,
                attempts=0,
            )
        )
        self.uow.outbox_changed()

    async def pending(self, limit: int = 100) -> list[PendingMessage]:
        found = (
            await self.session.execute(
                select(*columns(OutboxRow), ReleaseRow.channel, ReleaseRow.card_ts)
                .join(ReleaseRow, ReleaseRow.id == OutboxRow.release_id)
                .where(OutboxRow.sent_at.is_(None), ReleaseRow.card_ts.is_not(None))
                .order_by(OutboxRow.id)
                .limit(limit)
            )
        ).all()
        return [
            PendingMessage(
                o.id,
                o.release_id,
                o.channel,
                str(o.card_ts),
                o.text,
                notices.decode(o.kind, o.data),
                o.blocks,
                o.in_thread,
                o.attempts,
                o.created_at,
            )
            for o in found
        ]

    async def pending_count(self) -> int:
        return int(
            await self.session.scalar(
                select(func.count()).select_from(OutboxRow).where(OutboxRow.sent_at.is_(None))
            )
            or 0
        )

    async def sent(self, message_id: int, now: datetime) -> None:
        await self._update(OutboxRow, message_id, sent_at=now)

    async def attempt(self, message_id: int) -> None:
        """Counted before the call: a crash after Slack took it leaves the count behind."""
        await self._update(OutboxRow, message_id, attempts=OutboxRow.attempts + 1)

    async def failed(self, message_id: int, error: str, give_up: bool, now: datetime) -> None:
        values: dict[str, Any] = {"last_error": error[:500]}
        if give_up:
            values["sent_at"] = now  # leaves the queue; last_error says why
        await self._update(OutboxRow, message_id, **values)

    async def notices(self, release_id: int, kind: str) -> list[tuple[Notice, datetime]]:
        """The notices of one kind queued for a release, oldest first, with when."""
        found = await self.session.execute(
            select(OutboxRow.kind, OutboxRow.data, OutboxRow.created_at)
            .where(OutboxRow.release_id == release_id, OutboxRow.kind == kind)
            .order_by(OutboxRow.id)
        )
        decoded = [(notices.decode(k, data), at) for k, data, at in found.all()]
        return [(notice, at) for notice, at in decoded if notice is not None]
