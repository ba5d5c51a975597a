"""check results record since when the item has had its status

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-28 12:55:17.723049

Existing rows get their own finished_at: history before this revision is not replayed.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import bot.db.tables

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("check_results", schema=None) as batch_op:
        batch_op.add_column(sa.Column("changed_at", bot.db.tables.UTCDateTime(), nullable=True))
    op.execute("UPDATE check_results SET changed_at = finished_at")
    with op.batch_alter_table("check_results", schema=None) as batch_op:
        batch_op.alter_column(
            "changed_at", existing_type=bot.db.tables.UTCDateTime(), nullable=False
        )


def downgrade() -> None:
    with op.batch_alter_table("check_results", schema=None) as batch_op:
        batch_op.drop_column("changed_at")
