"""waivers: a failing item counted as passing on one release, for a while, with a reason

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-01 18:30:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import bot.db.tables

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OPEN = "state IN ('requested', 'granted')"
GRANTED = "state = 'granted'"


def upgrade() -> None:
    op.create_table(
        "waivers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("release_id", sa.Integer(), nullable=False),
        sa.Column("item_id", sa.String(length=60), nullable=False),
        sa.Column("item_title", sa.String(length=150), nullable=False),
        sa.Column("ref", sa.String(length=200), nullable=True),
        sa.Column("requested_by", sa.String(length=40), nullable=False),
        sa.Column("requested_at", bot.db.tables.UTCDateTime(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("duration_s", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(length=20), nullable=False),
        sa.Column("decided_by", sa.String(length=40), nullable=True),
        sa.Column("decided_at", bot.db.tables.UTCDateTime(), nullable=True),
        sa.Column("denial", sa.Text(), nullable=True),
        sa.Column("expires_at", bot.db.tables.UTCDateTime(), nullable=True),
        sa.Column("ended_at", bot.db.tables.UTCDateTime(), nullable=True),
        sa.Column("ended_by", sa.String(length=40), nullable=True),
        sa.Column("ts", sa.String(length=40), nullable=True),
        sa.Column("version", sa.Integer(), server_default=sa.text("1"), nullable=False),
        sa.Column("sent_version", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.ForeignKeyConstraint(
            ["release_id"], ["releases.id"], name=op.f("fk_waivers_release_id_releases")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_waivers")),
    )
    with op.batch_alter_table("waivers", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_waivers_release_id"), ["release_id"])
        batch_op.create_index(
            "uq_waivers_open",
            ["release_id", "item_id"],
            unique=True,
            sqlite_where=sa.text(OPEN),
            postgresql_where=sa.text(OPEN),
        )
        batch_op.create_index(
            "ix_waivers_granted",
            ["expires_at"],
            sqlite_where=sa.text(GRANTED),
            postgresql_where=sa.text(GRANTED),
        )


def downgrade() -> None:
    with op.batch_alter_table("waivers", schema=None) as batch_op:
        batch_op.drop_index("ix_waivers_granted")
        batch_op.drop_index("uq_waivers_open")
        batch_op.drop_index(batch_op.f("ix_waivers_release_id"))
    op.drop_table("waivers")
