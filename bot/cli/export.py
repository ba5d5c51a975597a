"""`readiness export`: a release's filled-in sign-off document, from the database."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

import click

from bot.cli.common import CONFIG_HELP, existing, fail, run_on_database
from bot.cli.common import settings as load
from bot.domain.errors import DomainError

if TYPE_CHECKING:
    from bot.config import Settings
    from bot.domain.document import SignoffDocument


async def _document(settings: Settings, name: str, product: str | None) -> SignoffDocument:
    from bot.runtime.wiring import offline

    async with offline(settings, migrate=True) as services:
        return await services.export.document_named(name, product)


@click.command("export")
@click.argument("release", nargs=-1, required=True)
@click.option("--format", "fmt", type=click.Choice(["md", "json"]), default="md", show_default=True)
@click.option("--product", default=None, help="The release's product (its id).")
@click.option("--config", "config", default=None, help=CONFIG_HELP)
def export(release: tuple[str, ...], fmt: str, product: str | None, config: str | None) -> None:
    """Print the filled-in sign-off document of RELEASE.

    For example `readiness export LUMINES 1.0.0 --format md`.

    Markdown in the seed document's structure, or JSON with the same data: every item's
    state and latest reason, each signature, the authorization, the digests so far and the
    audit log's head hash. Exits 2 for an unknown release (or one several products have,
    without --product).
    """
    from bot.documents.json_export import render_json
    from bot.documents.markdown import render_markdown

    settings = load(config)
    existing(settings.env.database_url)
    try:
        document = run_on_database(
            settings.env.database_url, _document(settings, " ".join(release), product)
        )
    except DomainError as exc:
        fail([str(exc)])
    if fmt == "json":
        click.echo(json.dumps(render_json(document), indent=2, ensure_ascii=False))
    else:
        click.echo(render_markdown(document), nl=False)
