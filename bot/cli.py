"""The `readiness` command line. Each command calls a service; config errors exit 2."""

from __future__ import annotations

import asyncio
import logging
import signal
import sys
from pathlib import Path
from typing import NoReturn

import click

from bot.config import ConfigError, Settings, load_app_config, load_environment, load_settings


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
    logging.basicConfig(
        level=settings.env.log_level.upper(),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    for noisy in ("httpx", "alembic.runtime.plugins"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
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
