"""`readiness manifest`: the Slack app manifest to paste at api.slack.com/apps, or (with
--github) the GitHub App's."""

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
@click.option(
    "--github", is_flag=True, help="The GitHub App's manifest (JSON): webhook URL/github/events."
)
def manifest(url: str | None, socket_mode: bool, github: bool) -> None:
    """Print the Slack app manifest (YAML) to paste at api.slack.com/apps.

    Create New App > From a manifest; every request URL is URL/slack/events. With
    --github, the GitHub App's manifest (see the README's "GitHub deployment protection
    rule").
    """
    if github:
        import json

        from bot.github.manifest import PLACEHOLDER as GITHUB_PLACEHOLDER
        from bot.github.manifest import github_manifest

        try:
            document = github_manifest(url)
        except ValueError as exc:
            fail([str(exc)])
        if not url:
            click.echo(
                f"replace {GITHUB_PLACEHOLDER} with the bot's public URL, or use --url", err=True
            )
        click.echo(json.dumps(document, indent=2))
        return
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
