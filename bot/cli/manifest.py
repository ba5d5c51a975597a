"""`readiness manifest`: the Slack app manifest to paste at api.slack.com/apps."""

from __future__ import annotations

import click

from bot.cli.common import fail


@click.command()
@click.option(
    "--url", default=None, help="Where Slack reaches the bot, e.g. https://readiness.example.com."
)
@click.option(
    "--socket-mode", is_flag=True, help="No request URLs: Slack delivers over Socket Mode."
)
def manifest(url: str | None, socket_mode: bool) -> None:
    """Print the Slack app manifest (YAML) to paste at api.slack.com/apps.

    Create New App > From a manifest; every request URL is URL/slack/events.
    """
    import yaml

    from bot.slack.manifest import PLACEHOLDER, ManifestError
    from bot.slack.manifest import manifest as build

    try:
        document = build(url, socket_mode)
    except ManifestError as exc:
        fail([str(exc)])
    if not url and not socket_mode:
        click.echo(f"replace {PLACEHOLDER} with the bot's public URL, or use --url", err=True)
    click.echo(yaml.safe_dump(document, sort_keys=False, allow_unicode=True, width=1000), nl=False)
