"""`readiness demo`: the whole product on one machine, in one process.

- the LUMINES demo target (bot/demo/target.py) on a free local port;
- FakeSlack, the local stand-in for Slack's Web API the scenario tests use, on its own
  thread (SlackDriver, which signs requests as Slack does, needs it there);
- the real bot: Runtime, the same code as `readiness serve`, on PORT, serving two
  products from a config directory (bot/demo/settings.py): LUMINES, the shipped app.yaml,
  in #releases, and the smaller Payments in #payments-releases, both checking the target,
  the demo people in their roles;
- the page at http://HOST:PORT/, served by the bot's own web server.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
import signal
import tempfile
from collections.abc import Callable
from pathlib import Path

from aiohttp import web
from sqlalchemy.exc import DatabaseError

from bot.config import Settings
from bot.demo.page import DemoPage
from bot.demo.people import CHANNELS, PEOPLE
from bot.demo.settings import Wiring, demo_settings
from bot.demo.target import TargetState, build_target
from bot.fake_slack import FakeSlackThread, SlackDriver
from bot.runtime.wiring import Runtime, port_taken

log = logging.getLogger(__name__)
LOCAL = "127.0.0.1"


class Demo:
    """Start and stop the demo's parts, in order."""

    def __init__(
        self, host: str = LOCAL, port: int = 3000, db: Path | None = None, fast: bool = False
    ) -> None:
        self.host, self.port, self.db, self.fast = host, port, db, fast
        self.target = TargetState()
        self.api_token = secrets.token_urlsafe(16)
        self.settings: Settings | None = None
        self.url = ""
        self._workdir: tempfile.TemporaryDirectory[str] | None = None
        self._target: web.AppRunner | None = None
        self._fake: FakeSlackThread | None = None
        self._runtime: Runtime | None = None
        self._driver: SlackDriver | None = None

    async def start(self) -> str:
        """Start everything; returns the page's URL. Stops what started if a part fails."""
        try:
            return await self._start()
        except BaseException:
            await self.stop()
            raise

    async def _start(self) -> str:
        self._workdir = tempfile.TemporaryDirectory(prefix="readiness-demo-")
        workdir = Path(self._workdir.name)
        database = self.db.resolve() if self.db else workdir / "readiness.db"

        self._target = web.AppRunner(build_target(self.target), access_log=None)
        await self._target.setup()
        await web.TCPSite(self._target, LOCAL, 0).start()
        target_url = f"http://{LOCAL}:{self._target.addresses[0][1]}"

        bot_token = "xoxb-demo-" + secrets.token_hex(8)
        fake = await asyncio.to_thread(FakeSlackThread(bot_token=bot_token).start)
        self._fake = fake

        def people() -> None:
            for where in CHANNELS:
                fake.add_channel(where.id, where.name)
            for p in PEOPLE:
                fake.add_user(p.id, p.name, p.real_name)

        await asyncio.to_thread(people)

        wiring = Wiring(
            slack_api_url=fake.api_url,
            target_url=target_url,
            database_url=f"sqlite+aiosqlite:///{database}",
            signing_secret=secrets.token_hex(16),
            bot_token=bot_token,
            api_token=self.api_token,
        )
        self.settings = settings = demo_settings(wiring, workdir, self.fast)
        page = DemoPage(fake, self.target, settings.catalog, self.host)
        self._runtime = Runtime(settings)
        port = await self._runtime.start(self.host, self.port, routes=page.routes)
        local = LOCAL if self.host in ("", "0.0.0.0", "::") else self.host  # noqa: S104
        self._driver = SlackDriver(
            f"http://{local}:{port}/slack/events", wiring.signing_secret, fake
        )
        page.driver = self._driver
        self.port = port
        self.url = f"http://{local}:{port}/"
        return self.url

    async def stop(self) -> None:
        if self._runtime is not None:
            await self._runtime.stop()
            self._runtime = None
        if self._driver is not None:
            self._driver.close()
            self._driver = None
        if self._fake is not None:
            await asyncio.to_thread(self._fake.stop)
            self._fake = None
        if self._target is not None:
            await self._target.cleanup()
            self._target = None
        if self._workdir is not None:
            self._workdir.cleanup()
            self._workdir = None


def run(
    host: str, port: int, db: Path | None, fast: bool, echo: Callable[[str], None] = print
) -> int:
    """Run the demo until SIGINT/SIGTERM; returns the exit status."""

    busy = port_taken(host, port)
    if busy:
        hint = " (another --port?)" if "in use" in busy else ""
        echo(f"readiness demo: cannot listen on {host}:{port}: {busy}{hint}")
        return 2
    # A tick that overlaps the previous one is skipped; said once a tick, it is only noise.
    logging.getLogger("apscheduler").setLevel(logging.ERROR)

    async def main() -> int:
        demo = Demo(host, port, db, fast)
        try:
            url = await demo.start()
        except OSError as exc:
            echo(f"readiness demo: cannot listen on {host}:{port}: {exc.strerror or exc}")
            return 2
        except DatabaseError as exc:  # start() stopped what it had started
            echo(f"readiness demo: cannot use the database {db}: {getattr(exc, 'orig', exc)}")
            return 2
        config = demo.settings.config_path if demo.settings else None
        channels = ", ".join(f"{c.product}.yaml (#{c.name})" for c in CHANNELS)
        echo(
            f"Readiness demo: open {url}\n"
            "  The page is a local stand-in for Slack: the real bot, a demo service to check,\n"
            "  nothing leaves this machine. "
            + (f"Database: {db}" if db else "Database: a temporary file, gone on exit.")
            + f"\n  Two products, each in its channel: {channels}."
            + f"\n  Their config, gone on exit: {config}"
            + f"\n  Gate API: READINESS_API_TOKEN={demo.api_token} "
            f'readiness gate "LUMINES 1.0.0" --product lumines --url {url.rstrip("/")}\n'
            "  Ctrl+C to stop."
        )
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        try:
            await stop.wait()
        finally:
            with contextlib.suppress(Exception):
                await demo.stop()
        return 0

    return asyncio.run(main())
