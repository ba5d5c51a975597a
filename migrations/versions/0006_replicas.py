"""what replicas sharing one database coordinate through it: signed requests already
accepted, scheduled jobs under leases, the sender of each channel

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01 13:30:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import bot.db.tables

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OPEN = sa.text("done_at IS NULL")


def upgrade() -> None:
    op.create_table(
        "seen_requests",
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("seen_at", bot.db.tables.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_seen_requests")),
    )
    with op.batch_alter_table("seen_requests", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_seen_requests_seen_at"), ["seen_at"], unique=False)
    op.create_table(
        "jobs",
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("due_at", bot.db.tables.UTCDateTime(), nullable=False),
        sa.Column("holder", sa.String(length=80), nullable=True),
        sa.Column("lease_until", bot.db.tables.UTCDateTime(), nullable=True),
        sa.Column("attempts", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("done_at", bot.db.tables.UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("name", "due_at", name=op.f("pk_jobs")),
    )
    with op.batch_alter_table("jobs", schema=None) as batch_op:
        batch_op.create_index(
            "ix_jobs_open", ["due_at"], unique=False, sqlite_where=OPEN, postgresql_where=OPEN
        )
    op.create_table(
        "channel_leases",
        sa.Column("channel", sa.String(length=40), nullable=False),
        sa.Column("holder", sa.String(length=80), nullable=False),
        sa.Column("until", bot.db.tables.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("channel", name=op.f("pk_channel_leases")),
    )


def downgrade() -> None:
    op.drop_table("channel_leases")
    with op.batch_alter_table("jobs", schema=None) as batch_op:
        batch_op.drop_index("ix_jobs_open", sqlite_where=OPEN, postgresql_where=OPEN)
    op.drop_table("jobs")
    with op.batch_alter_table("seen_requests", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_seen_requests_seen_at"))
    op.drop_table("seen_requests")
