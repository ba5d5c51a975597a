"""`readiness serve` (the bot) and `readiness demo` (the whole product on this machine)."""

from __future__ import annotations

import asyncio
import gc
import signal
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click

from bot.cli.common import CONFIG_HELP, fail, openable, unusable
from bot.cli.common import settings as load

if TYPE_CHECKING:
    from bot.config import Settings

# A bot token, or one from token rotation (xoxe.xoxb-); not a user (xoxp-) or app (xapp-) one.
BOT_TOKEN_PREFIXES = ("xoxb-", "xoxe.xoxb-")


@click.command()
@click.option(
    "--port",
    type=click.IntRange(0, 65535),
    default=None,
    help="HTTP port (default: $PORT or 3000).",
)
@click.option("--host", default="0.0.0.0", show_default=True)  # noqa: S104 - a server
@click.option("--config", "config", default=None, help=CONFIG_HELP)
@click.option(
    "--socket-mode",
    is_flag=True,
    help="Take Slack's requests over Socket Mode (needs SLACK_APP_TOKEN; implied when it is set).",
)
def serve(port: int | None, host: str, config: str | None, socket_mode: bool) -> None:
    """Run the bot: Slack's requests on POST /slack/events (or over Socket Mode), GET /healthz."""
    settings = load(config)
    env = settings.env
    socket_mode = socket_mode or bool(env.slack_app_token)
    required = [("SLACK_BOT_TOKEN", env.slack_bot_token)]
    if socket_mode:  # Slack's requests come over the WebSocket: nothing to verify
        required.append(("SLACK_APP_TOKEN", env.slack_app_token))
    else:
        required.append(("SLACK_SIGNING_SECRET", env.slack_signing_secret))
    missing = [f"environment: {name}: required to serve" for name, value in required if not value]
    if env.slack_bot_token and not env.slack_bot_token.startswith(BOT_TOKEN_PREFIXES):
        missing.append(
            "environment: SLACK_BOT_TOKEN: a bot token starts with xoxb- "
            "(the app's Bot User OAuth Token)"
        )
    if socket_mode and env.slack_app_token and not env.slack_app_token.startswith("xapp-"):
        missing.append("environment: SLACK_APP_TOKEN: an app-level token starts with xapp-")
    if missing:
        fail(missing)
    gc.disable()  # no collections until started: see _serve
    try:
        _run(settings, host, port, socket_mode)
    finally:
        gc.enable()


def _run(settings: Settings, host: str, port: int | None, socket_mode: bool) -> None:
    env = settings.env
    from sqlalchemy.exc import DatabaseError

    from bot.runtime.logs import configure
    from bot.runtime.wiring import port_taken

    port = env.port if port is None else port
    busy = port_taken(host, port)
    if busy:
        fail([f"cannot listen on {host}:{port}: {busy} (another --port or PORT?)"])
    configure(settings.env.log_level, settings.env.log_format)
    try:
        openable(env.database_url)
        asyncio.run(_serve(settings, host, port, socket_mode))
    except DatabaseError as exc:
        fail([unusable(env.database_url, exc)])
    except _CannotListen as exc:  # taken between the check above and the bind
        fail([f"cannot listen on {host}:{port}: {exc}"])


class _CannotListen(Exception):
    pass


async def _serve(settings: Settings, host: str, port: int, socket_mode: bool = False) -> None:
    from bot.runtime.wiring import Runtime

    runtime = Runtime(settings, socket_mode=socket_mode)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    reloads: set[asyncio.Task[bool]] = set()

    def reload() -> None:  # SIGHUP: read the config again, keep it if it is broken
        task = loop.create_task(runtime.reload())
        reloads.add(task)
        task.add_done_callback(reloads.discard)

    loop.add_signal_handler(signal.SIGHUP, reload)
    try:
        await runtime.start(host, port)
    except BaseException as exc:
        await runtime.stop()  # what did start (the HTTP session, the scheduler) stops
        if isinstance(exc, OSError) and exc.errno is not None:  # the bind
            raise _CannotListen(exc.strerror or str(exc)) from None
        raise
    # What start-up made (modules, config, the app) lives as long as the process: out of
    # the collector's sight, a full collection no longer walks it (~85 ms pauses otherwise,
    # each one holding up every ack that arrives meanwhile). Nothing was collected till
    # now: start-up frees next to nothing, and each full collection while importing walked
    # everything for that (~50 ms). The little garbage it left (~2 MB) is frozen with the
    # rest: collecting it first took ~90 ms more, with the first /healthz waiting.
    gc.freeze()
    gc.enable()
    try:
        await stop.wait()
    finally:
        await runtime.stop()


@click.command()
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
    """The whole product on this machine, no Slack workspace needed: the real bot serving
    two products (LUMINES in #releases, Payments in #payments-releases), a local stand-in
    for Slack in your browser, and a demo LUMINES service to check.

    Open http://127.0.0.1:PORT/, type `/readiness new LUMINES 1.0.0`, sign as each role.
    """
    from bot.demo.server import run
    from bot.runtime.logs import configure

    configure("WARNING", "text")
    sys.exit(run(host, port, db_path, fast, click.echo))
