"""`readiness config validate`: every problem of the config, one line each."""

from __future__ import annotations

from pathlib import Path

import click

from bot.cli.common import fail
from bot.config import ConfigError, load_environment, load_products
from bot.domain.checklist import AppConfig


@click.group()
def config() -> None:
    """Work with the config (app.yaml, or a directory of products)."""


@config.command("validate")
@click.argument("path", required=False)
def config_validate(path: str | None) -> None:
    """Check PATH, a file or a directory of products (default: $READINESS_CONFIG or
    app.yaml); print every problem as `file: field: problem`, exit 2 if any."""
    try:
        target = Path(path or load_environment().readiness_config)
        catalog = load_products(target)
    except ConfigError as exc:
        fail(exc.problems)
    if not catalog.directory:
        click.echo(f"{target}: OK: {_summary(next(iter(catalog.products.values())))}")
        return
    for product_id, app in catalog.products.items():
        channels = f" in {', '.join(app.homes)}" if app.homes else ""
        click.echo(
            f"{catalog.sources[product_id]}: OK: {app.product} ({product_id}){channels}: "
            f"{_summary(app)}"
        )


def _summary(app: AppConfig) -> str:
    automated = sum(1 for item in app.items if item.automated)
    return (
        f"{len(app.sections)} sections, {len(app.items)} items "
        f"({automated} automated), {len(app.roles)} roles, "
        f"{len(app.post_deploy.items)} post-deploy items; version {app.version}"
    )
