"""Change-freeze exceptions: the final role let one release deploy during one freeze."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from bot.db.tables import Base


class FreezeExceptionRow(Base):
    """Granted once per release and freeze occurrence (a later occurrence of a recurring
    freeze needs another): it lasts until `freeze_ends_at`."""

    __tablename__ = "freeze_exceptions"
    __table_args__ = (UniqueConstraint("release_id", "freeze_id", "freeze_ends_at"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    release_id: Mapped[int] = mapped_column(ForeignKey("releases.id"), index=True)
    freeze_id: Mapped[str] = mapped_column(String(60))
    freeze_title: Mapped[str] = mapped_column(String(80))
    freeze_ends_at: Mapped[datetime]
    granted_by: Mapped[str] = mapped_column(String(40))
    reason: Mapped[str] = mapped_column(Text)
    granted_at: Mapped[datetime]
