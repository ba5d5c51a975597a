"""Waivers: a failing item counted as passing on one release, asked for, answered, ended."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from bot.db.tables import Base, partial

OPEN = "state IN ('requested', 'granted')"  # one open waiver per release and item


class WaiverRow(Base):
    """Asked for with a reason and a duration; granted (until `expires_at`) or denied by
    another approver; ended when it expires, its grantor withdraws it, or the ref changes.
    Its request in the card's thread (at `ts`) is edited to show each change: `version`
    counts them, `sent_version` is the one Slack shows (as an alert message's)."""

    __tablename__ = "waivers"
    __table_args__ = (
        Index("uq_waivers_open", "release_id", "item_id", unique=True, **partial(OPEN)),
        Index("ix_waivers_granted", "expires_at", **partial("state = 'granted'")),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    release_id: Mapped[int] = mapped_column(ForeignKey("releases.id"), index=True)
    item_id: Mapped[str] = mapped_column(String(60))
    item_title: Mapped[str] = mapped_column(String(150))
    ref: Mapped[str | None] = mapped_column(String(200))
    requested_by: Mapped[str] = mapped_column(String(40))
    requested_at: Mapped[datetime]
    reason: Mapped[str] = mapped_column(Text)
    duration_s: Mapped[int] = mapped_column(Integer)
    state: Mapped[str] = mapped_column(String(20))
    decided_by: Mapped[str | None] = mapped_column(String(40))
    decided_at: Mapped[datetime | None]
    denial: Mapped[str | None] = mapped_column(Text)
    expires_at: Mapped[datetime | None]
    ended_at: Mapped[datetime | None]
    ended_by: Mapped[str | None] = mapped_column(String(40))
    ts: Mapped[str | None] = mapped_column(String(40))  # its request, once posted
    version: Mapped[int] = mapped_column(Integer, default=1, server_default=text("1"))
    sent_version: Mapped[int] = mapped_column(Integer, default=0, server_default=text("0"))
