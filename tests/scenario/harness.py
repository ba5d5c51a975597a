"""The running bot as a subprocess, a LUMINES target, and helpers to read what Slack saw."""

from __future__ import annotations

import asyncio
import contextlib
import copy
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import yaml
from aiohttp import web

from bot.demo.target import TargetState, build_target
from bot.fake_slack import FakeSlackThread
from tests.databases import sql

ROOT = Path(__file__).resolve().parents[2]
SECRET = "test-signing-secret"
CHANNEL = "CRELEASE"
USERS = {
    "UREL": "release.manager",
    "UENG": "eng.lead",
    "UENG2": "eng.second",
    "UOPS": "devops.lead",
    "USEC": "security.lead",
    "UPRD": "product.owner",
    "UCTO": "cto",
    "UCTO2": "vp.eng",
    "UNOBODY": "visitor",
    "UGROUP": "product.deputy",
}
ROLES = {
    "engineering_lead": "UENG",
    "devops_lead": "UOPS",
    "security_lead": "USEC",
    "product_owner": "UPRD",
    "cto": "UCTO",
}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class ThreadedTarget:
    """The demo target on its own event loop in a thread."""

    def __init__(self) -> None:
        self.state = TargetState()
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)

    def _serve(self) -> None:
        asyncio.set_event_loop(self._loop)
        runner = web.AppRunner(build_target(self.state), access_log=None, shutdown_timeout=0.5)
        self._loop.run_until_complete(runner.setup())
        self._loop.run_until_complete(web.TCPSite(runner, "127.0.0.1", self.port).start())
        self._ready.set()
        self._loop.run_forever()
        self._loop.run_until_complete(runner.cleanup())
        self._loop.close()

    def start(self) -> ThreadedTarget:
        self._thread.start()
        self._ready.wait(10)
        return self

    def stop(self) -> None:
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)


def target_env(target: ThreadedTarget, tmp: Path) -> dict[str, str]:
    """Point every automated item of the shipped app.yaml at the LUMINES target."""
    token = tmp / "k8s-token"
    token.write_text("demo-token\n")
    return {
        "TARGET_URL": target.url,
        "PROMETHEUS_URL": target.url,
        "ALERTMANAGER_URL": target.url,
        "GRAFANA_URL": f"{target.url}/grafana",
        "GITHUB_API_URL": f"{target.url}/github",
        "KUBERNETES_API_URL": f"{target.url}/k8s",
        "KUBERNETES_TOKEN_FILE": str(token),
    }


def scenario_config(tmp: Path) -> Path:
    """The shipped app.yaml with cards and posts sent without pause and no clock-time
    schedules, written to TMP: a recheck at :00 or :30 would rerun every open release's
    checks under a test waiting for its card, a reminder at 09:00 post in every thread.
    Its text is kept otherwise (some tests edit it as text)."""
    text = (ROOT / "app.yaml").read_text()
    for schedule in ("recheck", "reminder"):
        text, found = re.subn(rf"(?m)^  {schedule}: .*$", f"  {schedule}: null", text)
        assert found == 1, f"app.yaml changed: schedules.{schedule}"
    path = tmp / "app.yaml"
    path.write_text(text + "\nslack:\n  card_update_interval: 200ms\n  post_interval: 20ms\n")
    return path


class Bot:
    """`readiness serve` in a subprocess, as it runs in production, on DATABASE (a URL:
    the `databases` fixtures give one of the kind the run asked for)."""

    def __init__(
        self, fake: FakeSlackThread, target: ThreadedTarget, tmp: Path, database: str, **env: str
    ) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.database = database
        self.log_path = tmp / "bot.log"
        self.env = {
            **os.environ,
            "SLACK_BOT_TOKEN": fake.bot_token,
            "SLACK_SIGNING_SECRET": SECRET,
            "SLACK_API_URL": fake.api_url,
            "DATABASE_URL": database,
            "READINESS_CONFIG": str(scenario_config(tmp)),
            "PORT": str(self.port),
            **target_env(target, tmp),
            "READINESS_ENGINEERING_LEAD": "UENG,UENG2",
            "READINESS_DEVOPS_LEAD": "UOPS",
            "READINESS_SECURITY_LEAD": "USEC,UENG",
            "READINESS_PRODUCT_OWNER": "UPRD",
            "READINESS_CTO": "UCTO,UCTO2,UREL",
            "READINESS_PRODUCT_OWNER_GROUPS": "SPRODUCT",
            **env,
        }
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> Bot:
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "bot", "serve", "--host", "127.0.0.1"],
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
                cwd=ROOT,
            )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"bot exited: {self.log_path.read_text()[-3000:]}")
            try:
                if httpx.get(f"{self.url}/healthz", timeout=1).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        raise RuntimeError("bot did not become healthy")

    def sql(self, statement: str, **params: Any) -> list[Any]:
        """STATEMENT's rows, read from the bot's database (`:name` parameters)."""
        return sql(self.database, statement, **params)

    def cli(self, *args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
        """`readiness ARGS…` on the bot's database and configuration."""
        return subprocess.run(
            [sys.executable, "-m", "bot", *args],
            env=self.env,
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=False,
            timeout=timeout,
        )

    def release_api(self, name: str, tail: str = "", **params: str) -> httpx.Response:
        """GET /api/releases/NAME[TAIL] with the bot's READINESS_API_TOKEN."""
        return httpx.get(
            f"{self.url}/api/releases/{quote(name, safe='')}{tail}",
            params=params,
            headers={"Authorization": f"Bearer {self.env['READINESS_API_TOKEN']}"},
            timeout=15,
        )

    def restarted(self) -> Bot:
        """A new process on the same database, port and environment (not yet started)."""
        again = copy.copy(self)
        again.process = None
        return again

    def kill(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(10)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                self.kill()

    @property
    def events_url(self) -> str:
        return f"{self.url}/slack/events"

    def log(self) -> str:
        return self.log_path.read_text()


def text_of(blocks: list[dict[str, Any]]) -> str:
    """All the text a person reads in some blocks."""
    out: list[str] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if node.get("type") in ("mrkdwn", "plain_text") and "text" in node:
                out.append(str(node["text"]))
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(blocks)
    return "\n".join(out)


def edited_app(tmp: Path, edit: Callable[[dict[str, Any]], None], name: str = "app.yaml") -> Path:
    """`scenario_config` with EDIT applied, written to TMP/NAME (several replicas share it;
    a `Bot` of TMP writes TMP/app.yaml afresh, so give it another NAME)."""
    app = yaml.safe_load(scenario_config(tmp).read_text())
    edit(app)
    path = tmp / name
    path.write_text(yaml.safe_dump(app, sort_keys=False))
    return path


@contextlib.contextmanager
def replicas_running(
    fake: FakeSlackThread,
    target: ThreadedTarget,
    database: str,
    tmp: Callable[[str], Path],
    count: int,
    **env: str,
) -> Iterator[list[Bot]]:
    """COUNT bots on DATABASE, started together (they migrate one at a time), each with a
    directory of its own from TMP; stopped on exit."""
    bots = [Bot(fake, target, tmp(f"replica{n}"), database, **env) for n in range(count)]
    with ThreadPoolExecutor(count) as pool:
        list(pool.map(Bot.start, bots))
    try:
        yield bots
    finally:
        for bot in bots:
            bot.stop()
