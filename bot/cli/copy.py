"""`readiness db copy --from URL --to URL`: move an installation to another database."""

from __future__ import annotations

import asyncio

import click

from bot.cli.common import fail


def _usable(option: str, url: str) -> str:
    """URL, if Readiness can use it; else exit 2 naming the option and why."""
    from bot.config import ConfigError, load_environment

    try:
        load_environment({"DATABASE_URL": url})
    except ConfigError as exc:
        fail([p.replace("environment: DATABASE_URL", option, 1) for p in exc.problems])
    return url


@click.command("copy")
@click.option("--from", "source", required=True, metavar="URL", help="The installation's database.")
@click.option("--to", "target", required=True, metavar="URL", help="A new, empty database.")
def copy(source: str, target: str) -> None:
    """Move an installation to a new database, then verify its audit chain.

    Every table is copied (SQLite to PostgreSQL, say) in one transaction. The target is
    migrated first and must hold no releases or audit events; the source must be at head."""
    from sqlalchemy.exc import DBAPIError

    from bot.db.copy import CopyRefused, copy_database, describe, shown
    from bot.db.engine import Database
    from bot.services.audit import verify_chain

    _usable("--from", source)
    _usable("--to", target)

    async def run() -> None:
        counts = await copy_database(source, target)
        for line in describe(counts):
            click.echo(line)
        click.echo(f"copied {sum(counts.values())} rows in {len(counts)} tables")
        database = Database(target)
        try:
            report = await verify_chain(database, full=True)  # every event was rewritten
        finally:
            await database.close()
        if not report.ok:
            fail([f"{shown(target)}: {report.problem}"], code=1)
        click.echo(f"audit log OK: {report.events} events, head {report.head}")

    try:
        asyncio.run(run())
    except CopyRefused as exc:
        fail([f"refused: {exc}"])
    except (DBAPIError, OSError) as exc:
        cause = getattr(exc, "orig", None) or exc
        fail([f"cannot copy {shown(source)} to {shown(target)}: {cause}"])
