"""The `readiness` command line: one module per command group, each calling the services
through the composition root (`bot/runtime/wiring.py`). Bad usage or config exits 2 with
one line per problem, never a traceback."""

from __future__ import annotations

import click

from bot.cli.check import check
from bot.cli.config import config
from bot.cli.database import audit, db
from bot.cli.export import export
from bot.cli.gate import gate
from bot.cli.manifest import manifest
from bot.cli.serve import demo, serve


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
def main() -> None:
    """Readiness: production-readiness sign-off in Slack."""


for command in (serve, demo, check, gate, manifest, config, export, audit, db):
    main.add_command(command)
