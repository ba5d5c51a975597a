"""Alembic environment. `readiness db upgrade` hands us a live connection; the `alembic`
command line works too, with the URL from DATABASE_URL (see bot.config)."""

from __future__ import annotations

import asyncio

from alembic import context
from sqlalchemy.engine import Connection

from bot.db.tables import Base

target_metadata = Base.metadata


def run_with(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=True,
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


async def run_online() -> None:
    from bot.config import load_environment
    from bot.db.engine import make_engine

    url = context.config.get_main_option("sqlalchemy.url") or load_environment().database_url
    engine = make_engine(url)
    async with engine.connect() as connection:
        await connection.run_sync(run_with)
    await engine.dispose()


connection = context.config.attributes.get("connection")
if connection is not None:
    run_with(connection)
else:
    asyncio.run(run_online())
