"""The `readiness` command line. Each command calls a service; config errors exit 2."""

from __future__ import annotations

import asyncio
import gc
import json
import logging
import signal
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn

import click

from bot.config import ConfigError, Settings, load_app_config, load_environment, load_settings
from bot.domain.errors import DomainError

if TYPE_CHECKING:
    from bot.db import Database


def _fail(problems: list[str], code: int = 2) -> NoReturn:
    for problem in problems:
        click.echo(problem, err=True)
    sys.exit(code)


def _not_ours(url: str, exc: Exception) -> str:
    cause = getattr(exc, "orig", exc)
    return f"{url}: not a Readiness database ({cause}); `readiness db upgrade` makes one"


def _unusable(url: str, exc: Exception) -> str:
    """What a database error at open or migration time means, in one line."""
    cause = getattr(exc, "orig", None) or exc
    if "no such table" in str(cause):
        return _not_ours(url, exc)
    return f"environment: DATABASE_URL: cannot use {url}: {cause}"


def _existing(url: str) -> None:
    """Commands that only read refuse a database file that isn't there (SQLite would
    create an empty one, and they would report on nothing)."""
    from bot.db.engine import sqlite_file

    path = sqlite_file(url)
    if path is not None and not path.exists():
        _fail(
            [
                f"environment: DATABASE_URL: no database at {path}; "
                "`readiness db upgrade` (or `readiness serve`) makes one"
            ]
        )


def _on_database(work: Callable[[Database, str], Awaitable[None]], create: bool = False) -> None:
    """Run `work` on the database $DATABASE_URL names, closing it whatever happens."""
    from sqlalchemy.exc import DatabaseError

    try:
        url = load_environment().database_url
    except ConfigError as exc:
        _fail(exc.problems)
    if not create:
        _existing(url)

    from bot.db import Database

    async def run() -> None:
        database = Database(url)
        try:
            await work(database, url)
        finally:
            await database.close()

    try:
        asyncio.run(run())
    except DatabaseError as exc:
        _fail([_unusable(url, exc)])


def _settings(config: str | None) -> Settings:
    try:
        return load_settings(config)
    except ConfigError as exc:
        _fail(exc.problems)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
def main() -> None:
    """Readiness: production-readiness sign-off in Slack."""


@main.command()
@click.option(
    "--port",
    type=click.IntRange(0, 65535),
    default=None,
    help="HTTP port (default: $PORT or 3000).",
)
@click.option("--host", default="0.0.0.0", show_default=True)  # noqa: S104 - a server
@click.option("--config", "config", default=None, help="Config file (default: $READINESS_CONFIG).")
@click.option(
    "--socket-mode",
    is_flag=True,
    help="Take Slack's requests over Socket Mode (needs SLACK_APP_TOKEN; implied when it is set).",
)
def serve(port: int | None, host: str, config: str | None, socket_mode: bool) -> None:
    """Run the bot: Slack's requests on POST /slack/events (or over Socket Mode), GET /healthz."""
    settings = _settings(config)
    env = settings.env
    socket_mode = socket_mode or bool(env.slack_app_token)
    required = [("SLACK_BOT_TOKEN", env.slack_bot_token)]
    if socket_mode:  # Slack's requests come over the WebSocket: nothing to verify
        required.append(("SLACK_APP_TOKEN", env.slack_app_token))
    else:
        required.append(("SLACK_SIGNING_SECRET", env.slack_signing_secret))
    missing = [f"environment: {name}: required to serve" for name, value in required if not value]
    if socket_mode and env.slack_app_token and not env.slack_app_token.startswith("xapp-"):
        missing.append("environment: SLACK_APP_TOKEN: an app-level token starts with xapp-")
    if missing:
        _fail(missing)
    from sqlalchemy.exc import DatabaseError

    from bot.logs import configure
    from bot.runtime import port_taken

    port = env.port if port is None else port
    busy = port_taken(host, port)
    if busy:
        _fail([f"cannot listen on {host}:{port}: {busy} (another --port or PORT?)"])
    configure(settings.env.log_level, settings.env.log_format)
    try:
        asyncio.run(_serve(settings, host, port, socket_mode))
    except DatabaseError as exc:
        _fail([_unusable(env.database_url, exc)])
    except _CannotListen as exc:  # taken between the check above and the bind
        _fail([f"cannot listen on {host}:{port}: {exc}"])


class _CannotListen(Exception):
    pass


async def _serve(settings: Settings, host: str, port: int, socket_mode: bool = False) -> None:
    from bot.runtime import Runtime

    runtime = Runtime(settings, socket_mode=socket_mode)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    try:
        await runtime.start(host, port)
    except BaseException as exc:
        await runtime.stop()  # what did start (the HTTP session, the scheduler) stops
        if isinstance(exc, OSError) and exc.errno is not None:  # the bind
            raise _CannotListen(exc.strerror or str(exc)) from None
        raise
    # What startup made (modules, config, the app) lives as long as the process: out of the
    # collector's sight, a full collection no longer walks it (~85 ms pauses otherwise,
    # each one holding up every ack that arrives meanwhile).
    gc.collect()
    gc.freeze()
    try:
        await stop.wait()
    finally:
        await runtime.stop()


@main.command()
@click.option(
    "--port",
    type=click.IntRange(0, 65535),
    default=3000,
    show_default=True,
    help="HTTP port of the page.",
)
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option(
    "--db",
    "db_path",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Keep the database in this SQLite file (default: a temporary one).",
)
@click.option("--fast", is_flag=True, hidden=True, help="Phases of seconds (for tests).")
def demo(port: int, host: str, db_path: Path | None, fast: bool) -> None:
    """The whole product on this machine, no Slack workspace needed: the real bot, a local
    stand-in for Slack in your browser, and a demo LUMINES service to check.

    Open http://127.0.0.1:PORT/, type `/readiness new LUMINES 1.0.0`, sign as each role.
    """
    from bot.demo.server import run
    from bot.logs import configure

    configure("WARNING", "text")
    sys.exit(run(host, port, db_path, fast, click.echo))


@main.command()
@click.argument("release", nargs=-1)
@click.option("--section", default=None, help="Only this section's items (its id).")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
@click.option("--config", "config", default=None, help="Config file (default: $READINESS_CONFIG).")
def check(release: tuple[str, ...], section: str | None, as_json: bool, config: str | None) -> None:
    """Run the automated checks now and print every item's state.

    With RELEASE (e.g. `readiness check LUMINES 1.0.0`) the results are recorded on that
    release, as a run from Slack would be, and its ticked items count. Exits 0 when every
    blocking item passes, 1 when not, 2 on bad usage or config.
    """
    settings = _settings(config)
    if section is not None and section not in {s.id for s in settings.app.sections}:
        known = ", ".join(s.id for s in settings.app.sections)
        _fail([f"--section: no section {section!r} (sections: {known})"])
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    from sqlalchemy.exc import DatabaseError

    from bot.checkrun import run_check

    name = " ".join(release) or None
    if name is not None:
        _existing(settings.env.database_url)
    try:
        report = asyncio.run(run_check(settings, name, section, progress=not as_json))
    except DomainError as exc:
        _fail([str(exc)])
    except DatabaseError as exc:
        _fail([_unusable(settings.env.database_url, exc)])
    if as_json:
        click.echo(json.dumps(report.as_json(), indent=2))
    else:
        from rich.console import Console

        from bot.report import render_table

        console = Console()
        # In a CI log or a pipe there is no terminal width to honour: keep reasons whole.
        render_table(report, console if console.is_terminal else Console(width=200))
    sys.exit(0 if report.ok else 1)


def _seconds(_: click.Context, param: click.Parameter, value: str) -> float:
    from checks.durations import parse_duration

    try:
        return parse_duration(value).total_seconds()
    except ValueError as exc:
        raise click.BadParameter(str(exc), param=param) from None


@main.command()
@click.argument("release", nargs=-1, required=True)
@click.option("--url", default=None, help="The bot (default: $READINESS_URL or localhost:$PORT).")
@click.option("--token", default=None, help="API token (default: $READINESS_API_TOKEN).")
@click.option("--wait", is_flag=True, help="Ask again until approved or --timeout passes.")
@click.option("--timeout", default="30m", show_default=True, callback=_seconds)
@click.option("--interval", default="10s", show_default=True, callback=_seconds)
def gate(
    release: tuple[str, ...],
    url: str | None,
    token: str | None,
    wait: bool,
    timeout: float,
    interval: float,
) -> None:
    """Exit 0 if RELEASE is approved for production deployment.

    For example `readiness gate LUMINES 1.0.0`.

    Exits 0 when it is, 1 when not (printing why), 2 when the bot can't be asked (no token,
    refused, unreachable, unknown release). With --wait it asks every --interval until
    approved or --timeout passes.
    """
    import httpx

    from bot import gate as gating

    try:
        env = load_environment()
    except ConfigError as exc:
        _fail(exc.problems)
    name = " ".join(release)
    base = url or env.readiness_url or f"http://localhost:{env.port}"
    secret = token or env.readiness_api_token
    if not secret:
        _fail(["no API token: give --token or set READINESS_API_TOKEN"])
    with httpx.Client(timeout=10.0) as client:

        def question() -> gating.Answer:
            return gating.ask(client, base, name, secret)

        try:
            if wait:
                answer = gating.wait(question, timeout, interval, click.echo)
            else:
                answer = question()
        except gating.GateProblem as exc:
            _fail([str(exc)])
    if answer.approved:
        click.echo(f"{name} is approved for production deployment")
        sys.exit(0)
    waited = f" after waiting {gating.format_duration_s(timeout)}" if wait else ""
    click.echo(f"{name} is not approved for production deployment{waited} ({answer.state}):")
    for reason in answer.reasons:
        click.echo(f"  - {reason}")
    sys.exit(1)


@main.command()
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
        _fail([str(exc)])
    if not url and not socket_mode:
        click.echo(f"replace {PLACEHOLDER} with the bot's public URL, or use --url", err=True)
    click.echo(yaml.safe_dump(document, sort_keys=False, allow_unicode=True, width=1000), nl=False)


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


@main.command("export")
@click.argument("release", nargs=-1, required=True)
@click.option("--format", "fmt", type=click.Choice(["md", "json"]), default="md", show_default=True)
@click.option("--config", "config", default=None, help="Config file (default: $READINESS_CONFIG).")
def export(release: tuple[str, ...], fmt: str, config: str | None) -> None:
    """Print the filled-in sign-off document of RELEASE.

    For example `readiness export LUMINES 1.0.0 --format md`.

    Markdown in the seed document's structure, or JSON with the same data: every item's
    state and latest reason, each signature, the authorization, the digests so far and the
    audit log's head hash. Exits 2 for an unknown release.
    """
    from sqlalchemy.exc import DatabaseError

    from bot.export import render_json, render_markdown
    from bot.services.export import export_release

    settings = _settings(config)
    _existing(settings.env.database_url)
    try:
        document = asyncio.run(export_release(settings, " ".join(release)))
    except DomainError as exc:
        _fail([str(exc)])
    except DatabaseError as exc:
        _fail([_unusable(settings.env.database_url, exc)])
    if fmt == "json":
        click.echo(json.dumps(render_json(document), indent=2, ensure_ascii=False))
    else:
        click.echo(render_markdown(document), nl=False)


@main.group()
def audit() -> None:
    """The audit log."""


@audit.command("verify")
def audit_verify() -> None:
    """Walk the hash chain; exit 1 naming the first event that was edited, deleted or forged."""
    from bot.services.audit import verify_chain

    async def verify(database: Database, url: str) -> None:
        report = await verify_chain(database)  # database errors: _on_database says them
        if not report.ok:
            _fail([f"{url}: {report.problem}"], code=1)
        click.echo(f"audit log OK: {report.events} events, head {report.head}")

    _on_database(verify)


@main.group()
def db() -> None:
    """The database."""


@db.command("upgrade")
def db_upgrade() -> None:
    """Bring the schema up to date (serve does this at start)."""
    from bot.db.engine import sqlite_file
    from bot.db.migrate import upgrade

    async def migrate(database: Database, url: str) -> None:
        path = sqlite_file(url)
        new = path is not None and not path.exists()
        await upgrade(database)
        click.echo(f"{url}: {'created, ' if new else ''}schema is up to date")

    _on_database(migrate, create=True)
