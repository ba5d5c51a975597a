"""The schema. Alembic migrations (migrations/) are the only way it is created."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    TypeDecorator,
    text,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

NAMING = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def partial(where: str) -> dict[str, Any]:
    """A partial index's condition, as both SQLite and PostgreSQL take it."""
    return {"sqlite_where": text(where), "postgresql_where": text(where)}


class UTCDateTime(TypeDecorator[datetime]):
    """`DateTime(timezone=True)`: PostgreSQL's timestamptz; on SQLite (which has no time
    zones) stored as naive UTC. Always given and returned timezone-aware, in UTC."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given; use an aware UTC datetime")
        utc = value.astimezone(UTC)
        return utc.replace(tzinfo=None) if dialect.name == "sqlite" else utc

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map = {datetime: UTCDateTime, dict[str, Any]: JSON, list[str]: JSON}


class ReleaseRow(Base):
    __tablename__ = "releases"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # The product's id (its file's name); '' for a release from before products, which
    # the bot gives to its one product when it starts.
    product: Mapped[str] = mapped_column(String(40), default="", server_default="")
    name: Mapped[str] = mapped_column(String(120))
    channel: Mapped[str] = mapped_column(String(40))
    ref: Mapped[str | None] = mapped_column(String(200))
    state: Mapped[str] = mapped_column(String(20), index=True)
    created_by: Mapped[str] = mapped_column(String(40))
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    config_version: Mapped[str] = mapped_column(String(20))
    approved_at: Mapped[datetime | None]
    closed_by: Mapped[str | None] = mapped_column(String(40))
    card_ts: Mapped[str | None] = mapped_column(String(40))
    card_version: Mapped[int] = mapped_column(Integer, default=1, server_default=text("1"))
    card_sent_version: Mapped[int] = mapped_column(Integer, default=0, server_default=text("0"))
    # Set before the card's first chat.postMessage: after a crash, look before posting again.
    card_attempted: Mapped[bool] = mapped_column(default=False, server_default="0")
    # Section 10, recorded with the final approval (the window may be planned at `new`).
    window_start: Mapped[datetime | None]
    window_end: Mapped[datetime | None]
    deploy_team: Mapped[list[str] | None] = mapped_column(JSON)
    rollback_plan: Mapped[str | None] = mapped_column(Text)
    deployed_at: Mapped[datetime | None]
    deployed_by: Mapped[str | None] = mapped_column(String(40))

    __table_args__ = (
        # A name is taken in its product until its release is cancelled.
        Index(
            "ux_releases_live_name",
            "product",
            "name",
            unique=True,
            **partial("state != 'cancelled'"),
        ),
        # Found by name whatever its case (`ReleaseRepository.named`), in any product or one.
        Index("ix_releases_lower_name", text("lower(name)"), "product"),
        # Cards to bring up to date (`pending_cards`): only those behind their version.
        Index("ix_releases_card_pending", "id", **partial("card_version > card_sent_version")),
    )


class TickRow(Base):
    __tablename__ = "item_ticks"
    release_id: Mapped[int] = mapped_column(ForeignKey("releases.id"), primary_key=True)
    item_id: Mapped[str] = mapped_column(String(60), primary_key=True)
    user_id: Mapped[str] = mapped_column(String(40))
    ticked_at: Mapped[datetime]


class CheckRunRow(Base):
    __tablename__ = "check_runs"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    release_id: Mapped[int] = mapped_column(ForeignKey("releases.id"), index=True)
    trigger: Mapped[str] = mapped_column(String(20))
    actor: Mapped[str | None] = mapped_column(String(40))
    started_at: Mapped[datetime]
    finished_at: Mapped[datetime | None]
    total: Mapped[int] = mapped_column(Integer)
    done: Mapped[int] = mapped_column(Integer, default=0)
    phase: Mapped[str | None] = mapped_column(String(60))  # a post-deploy phase's run
    # The replica running it (`Deps.replica`) until its lease runs out (the database's
    # clock; renewed as it runs), and what it checks (a section; None: the whole checklist,
    # or its phase's items): a replica taking over a dead holder's run runs the rest.
    holder: Mapped[str | None] = mapped_column(String(80))
    lease_until: Mapped[datetime | None]
    section: Mapped[str | None] = mapped_column(String(60))

    __table_args__ = (Index("ix_check_runs_open", "lease_until", **partial("finished_at IS NULL")),)


class CheckResultRow(Base):
    __tablename__ = "check_results"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    release_id: Mapped[int] = mapped_column(ForeignKey("releases.id"))
    run_id: Mapped[int | None] = mapped_column(ForeignKey("check_runs.id"))
    item_id: Mapped[str] = mapped_column(String(60))
    status: Mapped[str] = mapped_column(String(10))
    reason: Mapped[str] = mapped_column(Text)
    values: Mapped[dict[str, Any]]
    duration_ms: Mapped[float] = mapped_column(Float)
    finished_at: Mapped[datetime]
    changed_at: Mapped[datetime]  # when this item's status last changed (history's streak)

    __table_args__ = (Index("ix_check_results_release_item", "release_id", "item_id", "id"),)


class SignatureRow(Base):
    __tablename__ = "signatures"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    release_id: Mapped[int] = mapped_column(ForeignKey("releases.id"))
    role_id: Mapped[str] = mapped_column(String(60))
    user_id: Mapped[str] = mapped_column(String(40))
    attestations: Mapped[list[str]]
    comment: Mapped[str | None] = mapped_column(Text)
    signed_at: Mapped[datetime]
    evidence: Mapped[dict[str, Any]]
    evidence_hash: Mapped[str] = mapped_column(String(64))
    withdrawn_at: Mapped[datetime | None]

    __table_args__ = (
        # One person holds at most one live slot per release.
        Index(
            "ux_signatures_live_user",
            "release_id",
            "user_id",
            unique=True,
            **partial("withdrawn_at IS NULL"),
        ),
    )


class RejectionRow(Base):
    __tablename__ = "rejections"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    release_id: Mapped[int] = mapped_column(ForeignKey("releases.id"))
    user_id: Mapped[str] = mapped_column(String(40))
    reason: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime]
    withdrawn_at: Mapped[datetime | None]

    __table_args__ = (
        Index(
            "ux_rejections_live_user",
            "release_id",
            "user_id",
            unique=True,
            **partial("withdrawn_at IS NULL"),
        ),
    )


class OutboxRow(Base):
    """A message that must reach Slack; deleted from the queue only by being sent."""

    __tablename__ = "outbox"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    release_id: Mapped[int] = mapped_column(ForeignKey("releases.id"), index=True)
    text: Mapped[str] = mapped_column(Text)
    blocks: Mapped[list[str] | None] = mapped_column(JSON)
    in_thread: Mapped[bool] = mapped_column(default=True, server_default="1")
    # A message the Slack side renders (an alert with buttons, a digest): its kind and facts.
    kind: Mapped[str | None] = mapped_column(String(20))
    data: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    created_at: Mapped[datetime]
    sent_at: Mapped[datetime | None]
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)

    __table_args__ = (
        # The sender's scan and /metrics' count read only what is still to be sent.
        Index("ix_outbox_unsent", "id", **partial("sent_at IS NULL")),
    )


class AlertMessageRow(Base):
    """One breach of a release's post-deploy items: the one alert message in its thread,
    listing every item that fails during it, edited in place (versions coalesce, as the
    card's do) until every item recovers; answered once with Acknowledge / Roll back."""

    __tablename__ = "alert_messages"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    release_id: Mapped[int] = mapped_column(ForeignKey("releases.id"), index=True)
    phase: Mapped[str] = mapped_column(String(60))  # where it opened
    responders: Mapped[list[str]]  # who it called
    opened_at: Mapped[datetime]
    closed_at: Mapped[datetime | None]  # every item recovered
    ts: Mapped[str | None] = mapped_column(String(40))  # once posted
    version: Mapped[int] = mapped_column(Integer, default=1, server_default=text("1"))
    sent_version: Mapped[int] = mapped_column(Integer, default=0, server_default=text("0"))
    acknowledged_by: Mapped[str | None] = mapped_column(String(40))
    acknowledged_at: Mapped[datetime | None]
    rolled_back_by: Mapped[str | None] = mapped_column(String(40))
    rolled_back_at: Mapped[datetime | None]

    __table_args__ = (
        # One breach at a time per release: at most one message open.
        Index(
            "ux_alert_messages_open",
            "release_id",
            unique=True,
            **partial("closed_at IS NULL"),
        ),
        # Messages whose newest version is not in Slack yet (`pending_messages`).
        Index("ix_alert_messages_unsent", "id", **partial("version > sent_version")),
    )


class AlertRow(Base):
    """A post-deploy item breaching: opened by its first failing run, closed by recovery."""

    __tablename__ = "alerts"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    release_id: Mapped[int] = mapped_column(ForeignKey("releases.id"), index=True)
    # The breach's message it is listed in (none for alerts an older version opened).
    message_id: Mapped[int | None] = mapped_column(ForeignKey("alert_messages.id"), index=True)
    item_id: Mapped[str] = mapped_column(String(60))
    phase: Mapped[str] = mapped_column(String(60))
    status: Mapped[str] = mapped_column(String(10))
    reason: Mapped[str] = mapped_column(Text)
    opened_at: Mapped[datetime]
    recovered_at: Mapped[datetime | None]
    acknowledged_by: Mapped[str | None] = mapped_column(String(40))
    acknowledged_at: Mapped[datetime | None]
    rolled_back_by: Mapped[str | None] = mapped_column(String(40))
    rolled_back_at: Mapped[datetime | None]

    __table_args__ = (
        # One alert per item per breach: at most one open at a time.
        Index(
            "ux_alerts_open_item",
            "release_id",
            "item_id",
            unique=True,
            **partial("recovered_at IS NULL"),
        ),
    )


class MarkRow(Base):
    """Something scheduled that must happen once per release (a digest, a reminder): the
    row is written in the transaction that queues it, so a restart can't do it twice."""

    __tablename__ = "schedule_marks"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    release_id: Mapped[int] = mapped_column(ForeignKey("releases.id"))
    key: Mapped[str] = mapped_column(String(120))
    due_at: Mapped[datetime]
    done_at: Mapped[datetime]
    late: Mapped[bool] = mapped_column(default=False)
    data: Mapped[dict[str, Any]]

    __table_args__ = (Index("ux_schedule_marks_key", "release_id", "key", unique=True),)


class SeenEventRow(Base):
    """Events API deliveries already handled: a retry or a repeat of one changes nothing."""

    __tablename__ = "seen_events"
    event_id: Mapped[str] = mapped_column(String(60), primary_key=True)
    received_at: Mapped[datetime] = mapped_column(index=True)


class SeenRequestRow(Base):
    """Signed requests already accepted, by a digest of their timestamp and signature: a
    replay is refused by whichever replica it reaches."""

    __tablename__ = "seen_requests"
    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    seen_at: Mapped[datetime] = mapped_column(index=True)


class JobRow(Base):
    """A scheduled run of bot-wide work (a product's recheck, its daily reminder), once
    per due time whichever replica fires it: claimed under a lease of the database's
    clock, finished by another replica if its holder dies."""

    __tablename__ = "jobs"
    name: Mapped[str] = mapped_column(String(120), primary_key=True)
    due_at: Mapped[datetime] = mapped_column(primary_key=True)
    holder: Mapped[str | None] = mapped_column(String(80))
    lease_until: Mapped[datetime | None]
    attempts: Mapped[int] = mapped_column(Integer, default=0, server_default=text("0"))
    done_at: Mapped[datetime | None]

    __table_args__ = (Index("ix_jobs_open", "due_at", **partial("done_at IS NULL")),)


class ChannelLeaseRow(Base):
    """Which replica sends a channel's cards and posts, until when: one at a time, in order."""

    __tablename__ = "channel_leases"
    channel: Mapped[str] = mapped_column(String(40), primary_key=True)
    holder: Mapped[str] = mapped_column(String(80))
    until: Mapped[datetime]


class AuditRow(Base):
    """Append-only (triggers refuse UPDATE and DELETE); each row hashes its predecessor."""

    __tablename__ = "audit_events"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime]
    release_id: Mapped[int | None] = mapped_column(ForeignKey("releases.id"), index=True)
    actor: Mapped[str | None] = mapped_column(String(40))
    kind: Mapped[str] = mapped_column(String(40))
    data: Mapped[dict[str, Any]]
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64), unique=True)


class AuditCheckpointRow(Base):
    """A verified head of the audit chain: its COUNT-th event, EVENT_ID, had HASH when a
    verification walked up to it, at VERIFIED_AT. The next verification starts there.
    Written only by verification and apart from the chain: the log stays append-only."""

    __tablename__ = "audit_checkpoints"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    event_id: Mapped[int] = mapped_column(Integer)
    hash: Mapped[str] = mapped_column(String(64))
    count: Mapped[int] = mapped_column(Integer)
    verified_at: Mapped[datetime]


# The GitHub App's tables live in their own module; imported here so the schema is whole
# wherever the tables are.
from bot.db.tables_freezes import FreezeExceptionRow  # noqa: E402, F401
from bot.db.tables_github import GitHubDeliveryRow, GitHubGateRow  # noqa: E402, F401
from bot.db.tables_waivers import WaiverRow  # noqa: E402, F401
