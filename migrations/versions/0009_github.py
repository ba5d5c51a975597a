"""the GitHub App: webhook deliveries recorded before they are answered, and the workflow
jobs waiting on a release with what they were answered

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-01 16:15:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import bot.db.tables

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UNHANDLED = sa.text("handled_at IS NULL")
OPEN = sa.text("refused IS NULL AND sent_at IS NULL")


def upgrade() -> None:
    op.create_table(
        "github_deliveries",
        sa.Column("delivery_id", sa.String(length=80), nullable=False),
        sa.Column("event", sa.String(length=60), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("received_at", bot.db.tables.UTCDateTime(), nullable=False),
        sa.Column("handled_at", bot.db.tables.UTCDateTime(), nullable=True),
        sa.Column("attempts", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("delivery_id", name=op.f("pk_github_deliveries")),
    )
    with op.batch_alter_table("github_deliveries", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_github_deliveries_received_at"), ["received_at"], unique=False
        )
        batch_op.create_index(
            "ix_github_deliveries_unhandled",
            ["received_at"],
            unique=False,
            sqlite_where=UNHANDLED,
            postgresql_where=UNHANDLED,
        )
    op.create_table(
        "github_gates",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("release_id", sa.Integer(), nullable=False),
        sa.Column("repository", sa.String(length=140), nullable=False),
        sa.Column("environment", sa.String(length=255), nullable=False),
        sa.Column("run_id", sa.BigInteger(), nullable=False),
        sa.Column("run_url", sa.String(length=500), nullable=False),
        sa.Column("installation_id", sa.BigInteger(), nullable=False),
        sa.Column("sha", sa.String(length=64), nullable=False),
        sa.Column("requested_at", bot.db.tables.UTCDateTime(), nullable=False),
        sa.Column("verdict", sa.String(length=10), nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("decided_at", bot.db.tables.UTCDateTime(), nullable=True),
        sa.Column("sent_at", bot.db.tables.UTCDateTime(), nullable=True),
        sa.Column("refused", sa.Text(), nullable=True),
        sa.Column("report_due", sa.String(length=20), nullable=True),
        sa.Column("reported", sa.String(length=20), nullable=True),
        sa.Column("reports", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("attempts", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("next_attempt_at", bot.db.tables.UTCDateTime(), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("holder", sa.String(length=80), nullable=True),
        sa.Column("lease_until", bot.db.tables.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["release_id"], ["releases.id"], name=op.f("fk_github_gates_release_id_releases")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_github_gates")),
        sa.UniqueConstraint(
            "repository",
            "run_id",
            "environment",
            name=op.f("uq_github_gates_repository_run_id_environment"),
        ),
    )
    with op.batch_alter_table("github_gates", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_github_gates_release_id"), ["release_id"])
        batch_op.create_index(
            "ix_github_gates_open", ["id"], sqlite_where=OPEN, postgresql_where=OPEN
        )


def downgrade() -> None:
    with op.batch_alter_table("github_gates", schema=None) as batch_op:
        batch_op.drop_index("ix_github_gates_open", sqlite_where=OPEN, postgresql_where=OPEN)
        batch_op.drop_index(batch_op.f("ix_github_gates_release_id"))
    op.drop_table("github_gates")
    with op.batch_alter_table("github_deliveries", schema=None) as batch_op:
        batch_op.drop_index(
            "ix_github_deliveries_unhandled", sqlite_where=UNHANDLED, postgresql_where=UNHANDLED
        )
        batch_op.drop_index(batch_op.f("ix_github_deliveries_received_at"))
    op.drop_table("github_deliveries")
