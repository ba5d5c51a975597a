"""The `readiness` command line. Each command calls a service; config errors exit 2."""

from __future__ import annotations

import asyncio
import json
import logging
import signal
import sys
from pathlib import Path
from typing import NoReturn

import click

from bot.config import ConfigError, Settings, load_app_config, load_environment, load_settings
from bot.domain.errors import DomainError


def _fail(problems: list[str], code: int = 2) -> NoReturn:
    for problem in problems:
        click.echo(problem, err=True)
    sys.exit(code)


def _settings(config: str | None) -> Settings:
    try:
        return load_settings(config)
    except ConfigError as exc:
        _fail(exc.problems)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
def main() -> None:
    """Readiness: production-readiness sign-off in Slack."""


@main.command()
@click.option("--port", type=int, default=None, help="HTTP port (default: $PORT or 3000).")
@click.option("--host", default="0.0.0.0", show_default=True)  # noqa: S104 - a server
@click.option("--config", "config", default=None, help="Config file (default: $READINESS_CONFIG).")
def serve(port: int | None, host: str, config: str | None) -> None:
    """Run the bot over HTTP: POST /slack/events, GET /healthz."""
    settings = _settings(config)
    missing = [
        f"environment: {name}: required to serve"
        for name, value in (
            ("SLACK_BOT_TOKEN", settings.env.slack_bot_token),
            ("SLACK_SIGNING_SECRET", settings.env.slack_signing_secret),
        )
        if not value
    ]
    if missing:
        _fail(missing)
    from bot.logs import configure

    configure(settings.env.log_level, settings.env.log_format)
    asyncio.run(_serve(settings, host, settings.env.port if port is None else port))


async def _serve(settings: Settings, host: str, port: int) -> None:
    from bot.runtime import Runtime

    runtime = Runtime(settings)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    await runtime.start(host, port)
    try:
        await stop.wait()
    finally:
        await runtime.stop()


@main.command()
@click.argument("release", nargs=-1)
@click.option("--section", default=None, help="Only this section's items (its id).")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
@click.option("--config", "config", default=None, help="Config file (default: $READINESS_CONFIG).")
def check(release: tuple[str, ...], section: str | None, as_json: bool, config: str | None) -> None:
    """Run the automated checks now and print every item's state.

    With RELEASE (e.g. `readiness check LUMINES 1.0.0`) the results are recorded on that
    release, as a run from Slack would be, and its ticked items count. Exits 0 when every
    blocking item passes, 1 when not, 2 on bad usage or config.
    """
    settings = _settings(config)
    if section is not None and section not in {s.id for s in settings.app.sections}:
        known = ", ".join(s.id for s in settings.app.sections)
        _fail([f"--section: no section {section!r} (sections: {known})"])
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    from bot.checkrun import run_check

    name = " ".join(release) or None
    try:
        report = asyncio.run(run_check(settings, name, section, progress=not as_json))
    except DomainError as exc:
        _fail([str(exc)])
    if as_json:
        click.echo(json.dumps(report.as_json(), indent=2))
    else:
        from rich.console import Console

        from bot.report import render_table

        render_table(report, Console())
    sys.exit(0 if report.ok else 1)


@main.group()
def config() -> None:
    """Work with app.yaml."""


@config.command("validate")
@click.argument("path", required=False)
def config_validate(path: str | None) -> None:
    """Check PATH (default: $READINESS_CONFIG or app.yaml); print every problem, exit 2 if any."""
    try:
        target = Path(path or load_environment().readiness_config)
        app = load_app_config(target)
    except ConfigError as exc:
        _fail(exc.problems)
    automated = sum(1 for item in app.items if item.automated)
    click.echo(
        f"{target}: OK: {len(app.sections)} sections, {len(app.items)} items "
        f"({automated} automated), {len(app.roles)} roles, "
        f"{len(app.post_deploy.items)} post-deploy items; version {app.version}"
    )


@main.group()
def audit() -> None:
    """The audit log."""


@audit.command("verify")
def audit_verify() -> None:
    """Walk the hash chain; exit 1 naming the first event that was edited, deleted or forged."""
    from sqlalchemy.exc import OperationalError

    from bot.db import Database
    from bot.services.audit import verify_chain

    try:
        env = load_environment()
    except ConfigError as exc:
        _fail(exc.problems)

    async def run() -> None:
        database = Database(env.database_url)
        try:
            report = await verify_chain(database)
        except OperationalError as exc:
            _fail([f"{env.database_url}: not a Readiness database ({exc.orig})"])
        finally:
            await database.close()
        if not report.ok:
            _fail([f"{env.database_url}: {report.problem}"], code=1)
        click.echo(f"audit log OK: {report.events} events, head {report.head}")

    asyncio.run(run())


@main.group()
def db() -> None:
    """The database."""


@db.command("upgrade")
def db_upgrade() -> None:
    """Bring the schema up to date (serve does this at start)."""
    from bot.db import Database
    from bot.db.migrate import upgrade

    try:
        env = load_environment()
    except ConfigError as exc:
        _fail(exc.problems)

    async def run() -> None:
        database = Database(env.database_url)
        try:
            await upgrade(database)
        finally:
            await database.close()

    asyncio.run(run())
    click.echo(f"{env.database_url}: schema is up to date")
