"""`readiness check`: the checklist run from a terminal, with or without a release."""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

import click
from rich.console import Console

from bot.cli.common import CONFIG_HELP, existing, fail, run_on_database
from bot.cli.common import settings as load
from bot.domain.errors import DomainError, InvalidState

if TYPE_CHECKING:
    from bot.config import Settings
    from bot.documents.report import CheckReport
    from checks import CheckResult

OnResult = Callable[["CheckResult"], None]


@contextmanager
def _progress(total: int, enabled: bool) -> Iterator[OnResult]:
    """A progress bar on stderr in a terminal; one line per result in a log."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    console = Console(stderr=True)
    if not enabled:
        yield lambda _: None
    elif console.is_terminal:
        columns = (
            TextColumn("Running checks"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
        )
        with Progress(*columns, console=console, transient=True) as bar:
            task = bar.add_task("checks", total=total)
            yield lambda _: bar.advance(task)
    else:
        done = 0

        def line(result: CheckResult) -> None:
            nonlocal done
            done += 1
            console.print(f"[{done}/{total}] {result.key}: {result.status.value}", highlight=False)

        yield line


async def run_check(
    settings: Settings, release: str | None, section: str | None, progress: bool
) -> CheckReport:
    """Run the checks (recorded on RELEASE when given, as a run from Slack would be)."""
    from bot.documents.report import CheckReport
    from bot.runtime.wiring import offline
    from bot.services.checking import check_jobs

    durations: dict[str, float] = {}
    values: dict[str, dict[str, object]] = {}
    total = len(check_jobs(settings.app, section))
    with _progress(total, progress) as advance:

        def record(result: CheckResult) -> None:
            durations[result.key] = result.duration_ms
            values[result.key] = result.values
            advance(result)

        async with offline(settings, migrate=release is not None) as services:
            if release is None:
                readiness = await services.checks.evaluate(section, record)
                return CheckReport(readiness, None, section, durations, values)
            found = await services.releases.resolve(release, None)
            ran = await services.checks.run(found.id, "cli", None, section, record)
            if ran is None:  # pragma: no cover - one CheckService per process
                raise InvalidState("Checks of this release are already running.")
            view = await services.releases.view(found.id)
            return CheckReport(view.readiness, found.name, section, durations, values)


@click.command()
@click.argument("release", nargs=-1)
@click.option("--section", default=None, help="Only this section's items (its id).")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
@click.option("--config", "config", default=None, help=CONFIG_HELP)
def check(release: tuple[str, ...], section: str | None, as_json: bool, config: str | None) -> None:
    """Run the automated checks now and print every item's state.

    With RELEASE (e.g. `readiness check LUMINES 1.0.0`) the results are recorded on that
    release, as a run from Slack would be, and its ticked items count. Exits 0 when every
    blocking item passes, 1 when not, 2 on bad usage or config.
    """
    settings = load(config)
    if section is not None and section not in {s.id for s in settings.app.sections}:
        known = ", ".join(s.id for s in settings.app.sections)
        fail([f"--section: no section {section!r} (sections: {known})"])
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    name = " ".join(release) or None
    if name is not None:
        existing(settings.env.database_url)
    try:
        report = run_on_database(
            settings.env.database_url, run_check(settings, name, section, progress=not as_json)
        )
    except DomainError as exc:
        fail([str(exc)])
    if as_json:
        click.echo(json.dumps(report.as_json(), indent=2))
    else:
        from bot.documents.report import render_table

        console = Console()
        # In a CI log or a pipe there is no terminal width to honour: keep reasons whole.
        render_table(report, console if console.is_terminal else Console(width=200))
    sys.exit(0 if report.ok else 1)
