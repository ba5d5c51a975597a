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
from bot.domain.errors import DomainError, InvalidInput, InvalidState

if TYPE_CHECKING:
    from bot.config import Settings
    from bot.documents.report import CheckReport
    from checks import CheckResult

OnResult = Callable[["CheckResult"], None]


@contextmanager
def _progress(total: int, enabled: bool, label: str = "") -> Iterator[OnResult]:
    """A progress bar on stderr in a terminal; one line per result in a log (LABEL: the
    product's id, when several run one after the other)."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    console = Console(stderr=True)
    if not enabled:
        yield lambda _: None
    elif console.is_terminal:
        columns = (
            TextColumn(f"Running checks{f' of {label}' if label else ''}"),
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
            where = f"{label} " if label else ""
            said = f"[{where}{done}/{total}] {result.key}: {result.status.value}"
            console.print(said, highlight=False)

        yield line


async def run_check(
    settings: Settings,
    release: str | None,
    section: str | None,
    progress: bool,
    product: str | None = None,
) -> CheckReport:
    """Run a product's checks (recorded on RELEASE when given, as a run from Slack would
    be; the release is found in PRODUCT, or in the one product that has it)."""
    from bot.documents.report import CheckReport
    from bot.runtime.wiring import offline
    from bot.services.checking import check_jobs

    durations: dict[str, float] = {}
    values: dict[str, dict[str, object]] = {}
    async with offline(settings, migrate=release is not None) as services:
        found = None
        if release is not None:
            found = await services.releases.resolve(release, None, product)
            product = found.product
        pid = product or settings.catalog.only
        assert pid is not None  # `check` picks one before it asks
        app = settings.catalog.config(pid)
        if section is not None and section not in {s.id for s in app.sections}:
            known = ", ".join(s.id for s in app.sections)
            raise InvalidInput(f"--section: no section {section!r} (sections: {known})")
        total = len(check_jobs(app, section))
        label = pid if len(settings.catalog) > 1 else ""
        with _progress(total, progress, label) as advance:

            def record(result: CheckResult) -> None:
                durations[result.key] = result.duration_ms
                values[result.key] = result.values
                advance(result)

            if found is None:
                readiness = await services.checks.evaluate(pid, section, record)
                return CheckReport(readiness, None, section, durations, values)
            ran = await services.checks.run(found.id, "cli", None, section, record)
            if ran is None:  # pragma: no cover - one CheckService per process
                raise InvalidState("Checks of this release are already running.")
            view = await services.releases.view(found.id)
            return CheckReport(view.readiness, found.name, section, durations, values)


@click.command()
@click.argument("release", nargs=-1)
@click.option("--section", default=None, help="Only this section's items (its id).")
@click.option("--product", default=None, help="The product (its id) of RELEASE, or to check.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
@click.option("--config", "config", default=None, help=CONFIG_HELP)
def check(
    release: tuple[str, ...],
    section: str | None,
    product: str | None,
    as_json: bool,
    config: str | None,
) -> None:
    """Run the automated checks now and print every item's state.

    With RELEASE (e.g. `readiness check LUMINES 1.0.0`) the results are recorded on that
    release, as a run from Slack would be, and its ticked items count. Without one, every
    product's checklist is run (one table each) unless --product names one. Exits 0 when
    every blocking item passes, 1 when not, 2 on bad usage or config.
    """
    settings = load(config)
    catalog = settings.catalog
    if product is not None and catalog.get(product) is None:
        fail([f"--product: no product {product!r} (products: {', '.join(catalog.products)})"])
    name = " ".join(release) or None
    products = [product] if product else list(catalog.products)
    if section is not None:
        for pid in products if name is None or product else []:
            sections = [s.id for s in catalog.config(pid).sections]
            if section not in sections:
                where = f" of {pid}" if catalog.directory else ""
                known = ", ".join(sections)
                fail([f"--section: no section {section!r}{where} (sections: {known})"])
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    if name is not None:
        existing(settings.env.database_url)
        products = [product]  # type: ignore[list-item]  # None: the release's own
    reports: list[tuple[str | None, CheckReport]] = []
    try:
        for pid in products:
            job = run_check(settings, name, section, not as_json, pid)
            reports.append((pid, run_on_database(settings.env.database_url, job)))
    except DomainError as exc:
        fail([str(exc)])
    _print(settings, reports, as_json)
    sys.exit(0 if all(report.ok for _, report in reports) else 1)


def _print(
    settings: Settings, reports: list[tuple[str | None, CheckReport]], as_json: bool
) -> None:
    """One report as before; several (every product's) one after the other, each titled."""
    several = len(reports) > 1
    if as_json:
        if several:
            click.echo(json.dumps({pid: r.as_json() for pid, r in reports}, indent=2))
        else:
            click.echo(json.dumps(reports[0][1].as_json(), indent=2))
        return
    from bot.documents.report import render_table

    console = Console()
    # In a CI log or a pipe there is no terminal width to honour: keep reasons whole.
    out = console if console.is_terminal else Console(width=200)
    for pid, report in reports:
        if several and pid is not None:
            out.rule(f"{settings.catalog.title(pid)} ({pid})")
        render_table(report, out)
