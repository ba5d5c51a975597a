"""a check run is held by the replica running it, under a lease: one that dies mid-run
leaves a lease that runs out, and another replica finishes the run

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-01 15:00:00.000000

- `check_runs.holder` / `lease_until`: who runs it, until when unless renewed (the
  database's clock). Runs from before this revision have neither: the start-up that
  follows closes those left unfinished, as every start did before.
- `check_runs.section`: what a run of the checklist checks (None: all of it), what a
  replica taking it over runs the rest of.
- `ix_check_runs_open`: the unfinished runs, by lease (the takeover's scan reads those only).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import bot.db.tables

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OPEN = sa.text("finished_at IS NULL")


def upgrade() -> None:
    with op.batch_alter_table("check_runs", schema=None) as batch_op:
        batch_op.add_column(sa.Column("holder", sa.String(length=80), nullable=True))
        batch_op.add_column(sa.Column("lease_until", bot.db.tables.UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column("section", sa.String(length=60), nullable=True))
        batch_op.create_index(
            "ix_check_runs_open",
            ["lease_until"],
            unique=False,
            sqlite_where=OPEN,
            postgresql_where=OPEN,
        )


def downgrade() -> None:
    # ALTER TABLE … DROP COLUMN (SQLite 3.35+): copying the table would break its foreign keys.
    with op.batch_alter_table("check_runs", schema=None, recreate="never") as batch_op:
        batch_op.drop_index("ix_check_runs_open", sqlite_where=OPEN, postgresql_where=OPEN)
        batch_op.drop_column("section")
        batch_op.drop_column("lease_until")
        batch_op.drop_column("holder")
