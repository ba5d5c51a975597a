"""one alert message per breach, listing its items and edited in place

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-01 11:20:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import bot.db.tables

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "alert_messages",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("release_id", sa.Integer(), nullable=False),
        sa.Column("phase", sa.String(length=60), nullable=False),
        sa.Column("responders", sa.JSON(), nullable=False),
        sa.Column("opened_at", bot.db.tables.UTCDateTime(), nullable=False),
        sa.Column("closed_at", bot.db.tables.UTCDateTime(), nullable=True),
        sa.Column("ts", sa.String(length=40), nullable=True),
        sa.Column("version", sa.Integer(), server_default=sa.text("1"), nullable=False),
        sa.Column("sent_version", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("acknowledged_by", sa.String(length=40), nullable=True),
        sa.Column("acknowledged_at", bot.db.tables.UTCDateTime(), nullable=True),
        sa.Column("rolled_back_by", sa.String(length=40), nullable=True),
        sa.Column("rolled_back_at", bot.db.tables.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["release_id"], ["releases.id"], name=op.f("fk_alert_messages_release_id_releases")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_alert_messages")),
    )
    with op.batch_alter_table("alert_messages", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_alert_messages_release_id"), ["release_id"], unique=False
        )
        batch_op.create_index(
            "ux_alert_messages_open",
            ["release_id"],
            unique=True,
            sqlite_where=sa.text("closed_at IS NULL"),
            postgresql_where=sa.text("closed_at IS NULL"),
        )
    with op.batch_alter_table("alerts", schema=None) as batch_op:
        batch_op.add_column(sa.Column("message_id", sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f("ix_alerts_message_id"), ["message_id"], unique=False)
        batch_op.create_foreign_key(
            batch_op.f("fk_alerts_message_id_alert_messages"),
            "alert_messages",
            ["message_id"],
            ["id"],
        )


def downgrade() -> None:
    with op.batch_alter_table("alerts", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_alerts_message_id_alert_messages"), type_="foreignkey"
        )
        batch_op.drop_index(batch_op.f("ix_alerts_message_id"))
        batch_op.drop_column("message_id")
    with op.batch_alter_table("alert_messages", schema=None) as batch_op:
        batch_op.drop_index(
            "ux_alert_messages_open",
            sqlite_where=sa.text("closed_at IS NULL"),
            postgresql_where=sa.text("closed_at IS NULL"),
        )
        batch_op.drop_index(batch_op.f("ix_alert_messages_release_id"))
    op.drop_table("alert_messages")
