"""`readiness config validate`: every problem of app.yaml, one line each."""

from __future__ import annotations

from pathlib import Path

import click

from bot.cli.common import fail
from bot.config import ConfigError, load_app_config, load_environment


@click.group()
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
        fail(exc.problems)
    automated = sum(1 for item in app.items if item.automated)
    click.echo(
        f"{target}: OK: {len(app.sections)} sections, {len(app.items)} items "
        f"({automated} automated), {len(app.roles)} roles, "
        f"{len(app.post_deploy.items)} post-deploy items; version {app.version}"
    )
