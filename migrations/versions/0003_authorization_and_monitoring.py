"""the deployment authorization record, post-deploy alerts, and once-only scheduled posts

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-28 13:22:52.128808
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import bot.db.tables

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "seen_events",
        sa.Column("event_id", sa.String(length=60), nullable=False),
        sa.Column("received_at", bot.db.tables.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("event_id", name=op.f("pk_seen_events")),
    )
    with op.batch_alter_table("seen_events", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_seen_events_received_at"), ["received_at"])
    op.create_table(
        "alerts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("release_id", sa.Integer(), nullable=False),
        sa.Column("item_id", sa.String(length=60), nullable=False),
        sa.Column("phase", sa.String(length=60), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("opened_at", bot.db.tables.UTCDateTime(), nullable=False),
        sa.Column("recovered_at", bot.db.tables.UTCDateTime(), nullable=True),
        sa.Column("acknowledged_by", sa.String(length=40), nullable=True),
        sa.Column("acknowledged_at", bot.db.tables.UTCDateTime(), nullable=True),
        sa.Column("rolled_back_by", sa.String(length=40), nullable=True),
        sa.Column("rolled_back_at", bot.db.tables.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["release_id"], ["releases.id"], name=op.f("fk_alerts_release_id_releases")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_alerts")),
    )
    with op.batch_alter_table("alerts", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_alerts_release_id"), ["release_id"], unique=False)
        batch_op.create_index(
            "ux_alerts_open_item",
            ["release_id", "item_id"],
            unique=True,
            sqlite_where=sa.text("recovered_at IS NULL"),
            postgresql_where=sa.text("recovered_at IS NULL"),
        )

    op.create_table(
        "schedule_marks",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("release_id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=120), nullable=False),
        sa.Column("due_at", bot.db.tables.UTCDateTime(), nullable=False),
        sa.Column("done_at", bot.db.tables.UTCDateTime(), nullable=False),
        sa.Column("late", sa.Boolean(), nullable=False),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["release_id"], ["releases.id"], name=op.f("fk_schedule_marks_release_id_releases")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_schedule_marks")),
    )
    with op.batch_alter_table("schedule_marks", schema=None) as batch_op:
        batch_op.create_index("ux_schedule_marks_key", ["release_id", "key"], unique=True)

    with op.batch_alter_table("check_runs", schema=None) as batch_op:
        batch_op.add_column(sa.Column("phase", sa.String(length=60), nullable=True))

    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("in_thread", sa.Boolean(), server_default="1", nullable=False)
        )
        batch_op.add_column(sa.Column("kind", sa.String(length=20), nullable=True))
        batch_op.add_column(sa.Column("data", sa.JSON(), nullable=True))

    with op.batch_alter_table("releases", schema=None) as batch_op:
        batch_op.add_column(sa.Column("window_start", bot.db.tables.UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column("window_end", bot.db.tables.UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column("deploy_team", sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column("rollback_plan", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("deployed_at", bot.db.tables.UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column("deployed_by", sa.String(length=40), nullable=True))
        batch_op.add_column(
            sa.Column("card_attempted", sa.Boolean(), server_default="0", nullable=False)
        )


def downgrade() -> None:
    op.drop_table("seen_events")
    with op.batch_alter_table("releases", schema=None) as batch_op:
        batch_op.drop_column("card_attempted")
        batch_op.drop_column("deployed_by")
        batch_op.drop_column("deployed_at")
        batch_op.drop_column("rollback_plan")
        batch_op.drop_column("deploy_team")
        batch_op.drop_column("window_end")
        batch_op.drop_column("window_start")

    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.drop_column("data")
        batch_op.drop_column("kind")
        batch_op.drop_column("in_thread")

    with op.batch_alter_table("check_runs", schema=None) as batch_op:
        batch_op.drop_column("phase")

    with op.batch_alter_table("schedule_marks", schema=None) as batch_op:
        batch_op.drop_index("ux_schedule_marks_key")

    op.drop_table("schedule_marks")
    with op.batch_alter_table("alerts", schema=None) as batch_op:
        batch_op.drop_index(
            "ux_alerts_open_item",
            sqlite_where=sa.text("recovered_at IS NULL"),
            postgresql_where=sa.text("recovered_at IS NULL"),
        )
        batch_op.drop_index(batch_op.f("ix_alerts_release_id"))

    op.drop_table("alerts")
