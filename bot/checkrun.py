"""Wiring for `readiness check`: the checklist run from a terminal, with or without a release."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from bot.clock import SystemClock
from bot.config import Settings
from bot.db import Database
from bot.db.migrate import upgrade
from bot.domain.errors import InvalidState
from bot.domain.model import ItemStatus, LatestResult
from bot.domain.readiness import assess
from bot.report import CheckReport
from bot.services.checking import CheckService, check_jobs
from bot.services.deps import Deps
from bot.services.releases import ReleaseService
from bot.services.tasks import TaskRunner
from checks import CheckContext, CheckResult, run_checks
from checks.httpclient import check_http_client

OnResult = Callable[[CheckResult], None]


class _NoDirectory:
    """Nobody signs from a terminal; user groups are never asked."""

    async def usergroup_members(self, usergroup_id: str) -> frozenset[str]:
        return frozenset()


@contextmanager
def _progress(total: int, enabled: bool) -> Iterator[OnResult]:
    """A progress bar on stderr in a terminal; one line per result in a log."""
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
    app = settings.app
    clock = SystemClock()
    http = check_http_client(app.checks.concurrency)
    durations: dict[str, float] = {}
    values: dict[str, dict[str, object]] = {}
    total = len(check_jobs(app, section))
    try:
        with _progress(total, progress) as advance:

            def record(result: CheckResult) -> None:
                durations[result.key] = result.duration_ms
                values[result.key] = result.values
                advance(result)

            if release is None:
                latest: dict[str, LatestResult] = {}
                async for result in run_checks(
                    check_jobs(app, section),
                    settings.registry,
                    CheckContext(http, environ=settings.environ),
                    app.checks.concurrency,
                ):
                    record(result)
                    status = ItemStatus(result.status.value)
                    latest[result.key] = LatestResult(
                        result.key, status, result.reason, clock.now(), result.duration_ms
                    )
                readiness = assess(app, latest, {})
                return CheckReport(readiness, None, section, durations, values)
            db = Database(settings.env.database_url)
            try:
                await upgrade(db)
                deps = Deps(settings, db, clock, _NoDirectory(), http, TaskRunner())
                releases = ReleaseService(deps)
                found = await releases.resolve(release, None)
                ran = await CheckService(deps).run(found.id, "cli", None, section, record)
                if ran is None:  # pragma: no cover - one CheckService per process
                    raise InvalidState("Checks of this release are already running.")
                view = await releases.view(found.id)
                return CheckReport(view.readiness, found.name, section, durations, values)
            finally:
                await db.close()
    finally:
        await http.aclose()
