"""The GitHub App's tables: the webhook deliveries received, and the jobs waiting on a
release (a deployment protection rule's run and environment) with what was answered."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, ForeignKey, Index, Integer, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from bot.db.tables import Base, partial

UNHANDLED = "handled_at IS NULL"
OPEN = "refused IS NULL AND sent_at IS NULL"  # waiting, or answered and not yet sent


class GitHubDeliveryRow(Base):
    """A webhook delivery, recorded before GitHub is answered: handled after, once (a
    redelivery of the same X-GitHub-Delivery changes nothing)."""

    __tablename__ = "github_deliveries"
    __table_args__ = (Index("ix_github_deliveries_unhandled", "received_at", **partial(UNHANDLED)),)
    delivery_id: Mapped[str] = mapped_column(String(80), primary_key=True)
    event: Mapped[str] = mapped_column(String(60))
    payload: Mapped[dict[str, Any]]
    received_at: Mapped[datetime] = mapped_column(index=True)
    handled_at: Mapped[datetime | None]
    attempts: Mapped[int] = mapped_column(Integer, default=0, server_default=text("0"))
    error: Mapped[str | None] = mapped_column(Text)


class GitHubGateRow(Base):
    """A workflow run's job waiting on a release to deploy to an environment, and the
    answer: decided once (`verdict`), sent until GitHub takes it (`sent_at`) or refuses it
    for good (`refused`); progress reports in between (`report_due`, `reports`)."""

    __tablename__ = "github_gates"
    __table_args__ = (
        UniqueConstraint("repository", "run_id", "environment"),
        Index("ix_github_gates_open", "id", **partial(OPEN)),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    release_id: Mapped[int] = mapped_column(ForeignKey("releases.id"), index=True)
    repository: Mapped[str] = mapped_column(String(140))
    environment: Mapped[str] = mapped_column(String(255))
    run_id: Mapped[int] = mapped_column(BigInteger)
    run_url: Mapped[str] = mapped_column(String(500))
    installation_id: Mapped[int] = mapped_column(BigInteger)
    sha: Mapped[str] = mapped_column(String(64))
    requested_at: Mapped[datetime]
    verdict: Mapped[str | None] = mapped_column(String(10))
    reason: Mapped[str | None] = mapped_column(Text)
    decided_at: Mapped[datetime | None]
    sent_at: Mapped[datetime | None]
    refused: Mapped[str | None] = mapped_column(Text)
    report_due: Mapped[str | None] = mapped_column(String(20))
    reported: Mapped[str | None] = mapped_column(String(20))
    reports: Mapped[int] = mapped_column(Integer, default=0, server_default=text("0"))
    attempts: Mapped[int] = mapped_column(Integer, default=0, server_default=text("0"))
    next_attempt_at: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(Text)
    holder: Mapped[str | None] = mapped_column(String(80))
    lease_until: Mapped[datetime | None]
