"""`readiness db upgrade` and `readiness audit verify`: the database itself."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from bot.cli.common import fail, on_database

if TYPE_CHECKING:
    from bot.db import Database


@click.group()
def audit() -> None:
    """The audit log."""


@audit.command("verify")
def audit_verify() -> None:
    """Walk the hash chain; exit 1 naming the first event that was edited, deleted or forged."""
    from bot.services.audit import verify_chain

    async def verify(database: Database, url: str) -> None:
        report = await verify_chain(database)  # database errors: on_database says them
        if not report.ok:
            fail([f"{url}: {report.problem}"], code=1)
        click.echo(f"audit log OK: {report.events} events, head {report.head}")

    on_database(verify)


@click.group()
def db() -> None:
    """The database."""


@db.command("upgrade")
def db_upgrade() -> None:
    """Bring the schema up to date (serve does this at start)."""
    from bot.db.engine import sqlite_file
    from bot.db.migrate import upgrade

    async def migrate(database: Database, url: str) -> None:
        path = sqlite_file(url)
        new = path is not None and not path.exists()
        await upgrade(database)
        click.echo(f"{url}: {'created, ' if new else ''}schema is up to date")

    on_database(migrate, create=True)
