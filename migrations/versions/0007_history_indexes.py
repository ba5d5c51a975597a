"""history must not slow the present: indexes where a query scanned every release or every
message ever sent, and the audit chain's verified checkpoints

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-01 14:00:00.000000

- `ix_outbox_unsent`: the sender's scan and /metrics' count read the messages still to
  send, not every one ever sent (sent rows are kept: the export reads the digests back).
- `ix_releases_lower_name`: a release found by name whatever its case, in one product or
  in any (the name first, so both lookups use it).
- `ix_releases_card_pending` and `ix_alert_messages_unsent`: the cards and alert messages
  whose newest version is not in Slack yet (a column compared with a column can't be
  searched; a partial index holds only those rows).
- `audit_checkpoints`: the heads verification has verified, where the next one starts
  (a table apart: the audit log itself stays append-only).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import bot.db.tables

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UNSENT = sa.text("sent_at IS NULL")
CARD_PENDING = sa.text("card_version > card_sent_version")
ALERT_UNSENT = sa.text("version > sent_version")


def upgrade() -> None:
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_outbox_unsent"),
            ["id"],
            unique=False,
            sqlite_where=UNSENT,
            postgresql_where=UNSENT,
        )
    with op.batch_alter_table("releases", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_releases_lower_name"),
            [sa.text("lower(name)"), "product"],
            unique=False,
        )
        batch_op.create_index(
            batch_op.f("ix_releases_card_pending"),
            ["id"],
            unique=False,
            sqlite_where=CARD_PENDING,
            postgresql_where=CARD_PENDING,
        )
    with op.batch_alter_table("alert_messages", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_alert_messages_unsent"),
            ["id"],
            unique=False,
            sqlite_where=ALERT_UNSENT,
            postgresql_where=ALERT_UNSENT,
        )
    op.create_table(
        "audit_checkpoints",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("event_id", sa.Integer(), nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.Column("verified_at", bot.db.tables.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_checkpoints")),
    )


def downgrade() -> None:
    op.drop_table("audit_checkpoints")
    with op.batch_alter_table("alert_messages", schema=None) as batch_op:
        batch_op.drop_index(
            batch_op.f("ix_alert_messages_unsent"),
            sqlite_where=ALERT_UNSENT,
            postgresql_where=ALERT_UNSENT,
        )
    with op.batch_alter_table("releases", schema=None) as batch_op:
        batch_op.drop_index(
            batch_op.f("ix_releases_card_pending"),
            sqlite_where=CARD_PENDING,
            postgresql_where=CARD_PENDING,
        )
        batch_op.drop_index(batch_op.f("ix_releases_lower_name"))
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.drop_index(
            batch_op.f("ix_outbox_unsent"), sqlite_where=UNSENT, postgresql_where=UNSENT
        )
