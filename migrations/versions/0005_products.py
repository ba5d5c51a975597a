"""releases belong to a product: names are unique per product

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01 12:50:00.000000

Existing releases get product '' (from before products); the bot gives them to its one
product when it starts (`ReleaseService.adopt`).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

LIVE = sa.text("state != 'cancelled'")


def upgrade() -> None:
    with op.batch_alter_table("releases", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("product", sa.String(length=40), server_default="", nullable=False)
        )
        batch_op.drop_index("ux_releases_live_name", sqlite_where=LIVE, postgresql_where=LIVE)
        batch_op.create_index(
            "ux_releases_live_name",
            ["product", "name"],
            unique=True,
            sqlite_where=LIVE,
            postgresql_where=LIVE,
        )


def downgrade() -> None:
    # ALTER TABLE … DROP COLUMN (SQLite 3.35+): copying the table would break its foreign keys.
    with op.batch_alter_table("releases", schema=None, recreate="never") as batch_op:
        batch_op.drop_index("ux_releases_live_name", sqlite_where=LIVE, postgresql_where=LIVE)
        batch_op.create_index(
            "ux_releases_live_name", ["name"], unique=True, sqlite_where=LIVE, postgresql_where=LIVE
        )
        batch_op.drop_column("product")
