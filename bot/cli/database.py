"""`readiness db upgrade` and `readiness audit verify`: the database itself."""

from __future__ import annotations

from datetime import UTC
from typing import TYPE_CHECKING

import click

from bot.cli.common import fail, on_database
from bot.cli.copy import copy

if TYPE_CHECKING:
    from bot.db import Database
    from bot.domain.audit import ChainReport


@click.group()
def audit() -> None:
    """The audit log."""


def walked(report: ChainReport, full: bool) -> str:
    """Which events a verification checked, in words."""
    if full:
        return "full walk: every event checked, and every checkpoint against them"
    since = report.since
    if since is None:
        return "incremental, but no checkpoint yet: every event checked"
    at = since.verified_at.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")
    return (
        f"incremental: {report.checked} event(s) after the checkpoint at event "
        f"{since.event_id} (verified {at}); `--full` checks every event"
    )


@audit.command("verify")
@click.option(
    "--full",
    is_flag=True,
    help="Walk every event from the first (default: on from the last verified checkpoint).",
)
def audit_verify(full: bool) -> None:
    """Walk the hash chain; exit 1 naming the first event that was edited, deleted or forged.

    By default the walk goes on from the head the last verification checked (a checkpoint
    it recorded), checking that its event still has that hash: it costs what was appended
    since. `--full` re-checks every event from the first, and each checkpoint against them.
    """
    from bot.services.audit import verify_chain

    async def verify(database: Database, url: str) -> None:
        report = await verify_chain(database, full=full)  # database errors: on_database says
        if not report.ok:
            fail([f"{url}: {report.problem}", f"({walked(report, full)})"], code=1)
        click.echo(
            f"audit log OK: {report.events} events, head {report.head} ({walked(report, full)})"
        )

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


db.add_command(copy)
