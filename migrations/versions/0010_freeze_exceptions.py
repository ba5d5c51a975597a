"""change-freeze exceptions: the final role lets one release deploy during one freeze,
until that freeze ends

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-01 16:40:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import bot.db.tables

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "freeze_exceptions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("release_id", sa.Integer(), nullable=False),
        sa.Column("freeze_id", sa.String(length=60), nullable=False),
        sa.Column("freeze_title", sa.String(length=80), nullable=False),
        sa.Column("freeze_ends_at", bot.db.tables.UTCDateTime(), nullable=False),
        sa.Column("granted_by", sa.String(length=40), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("granted_at", bot.db.tables.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["release_id"], ["releases.id"], name=op.f("fk_freeze_exceptions_release_id_releases")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_freeze_exceptions")),
        sa.UniqueConstraint(
            "release_id",
            "freeze_id",
            "freeze_ends_at",
            name=op.f("uq_freeze_exceptions_release_id_freeze_id_freeze_ends_at"),
        ),
    )
    with op.batch_alter_table("freeze_exceptions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_freeze_exceptions_release_id"), ["release_id"])


def downgrade() -> None:
    with op.batch_alter_table("freeze_exceptions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_freeze_exceptions_release_id"))
    op.drop_table("freeze_exceptions")
