"""/healthz says whether this replica can reach its database: 503, saying so, while it
cannot (a load balancer or Kubernetes takes the replica out of rotation), and 200 again
once it can, without a restart. `readiness serve` runs in a subprocess, as in production.

On PostgreSQL the database is taken away three ways: the server stopped (connections
refused), the bot's database refusing connections (`ALLOW_CONNECTIONS false`, its
sessions terminated) and the server frozen (SIGSTOP: connections that never answer). The
first and the last use a server of the test's own (`.ci/postgres start DIR`); the suite's
shared server only has one of its databases closed for a moment. SQLite has no such
failure to test: the database is a file the process holds open, and SQLite answers
`SELECT 1` without reading it.
"""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool

from bot.fake_slack import FakeSlackThread
from tests.databases import Databases, server_url

ROOT = Path(__file__).resolve().parents[2]
POSTGRES = ROOT / ".ci" / "postgres"
UNAVAILABLE = {"ok": False, "database": "unavailable"}
pytestmark = pytest.mark.postgresql


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def run_sql(url: str, *statements: str) -> None:
    """STATEMENTS on URL's server, each on its own (AUTOCOMMIT), as its administrator."""

    async def run() -> None:
        engine = create_async_engine(url, isolation_level="AUTOCOMMIT", poolclass=NullPool)
        try:
            async with engine.connect() as connection:
                for statement in statements:
                    await connection.execute(text(statement))
        finally:
            await engine.dispose()

    asyncio.run(run())


class Server:
    """A PostgreSQL server of this test's own, in DIR: stopped, started again (same data,
    same port), frozen and thawed."""

    def __init__(self, where: Path) -> None:
        self.where = where
        self.url = self._ctl("start")

    def _ctl(self, action: str) -> str:
        done = subprocess.run(
            [str(POSTGRES), action, str(self.where)], capture_output=True, text=True, timeout=60
        )
        assert done.returncode == 0, done.stderr
        return done.stdout.strip()

    def stop(self) -> None:
        self._ctl("stop")

    def start(self) -> None:
        assert self._ctl("start") == self.url

    def _processes(self) -> list[int]:
        """The postmaster and every backend it forked."""
        postmaster = int((self.where / "data" / "postmaster.pid").read_text().split()[0])
        children = []
        for entry in Path("/proc").iterdir():
            try:
                stat = (entry / "stat").read_text()
            except (OSError, ValueError):
                continue
            if entry.name.isdigit() and int(stat.rsplit(")", 1)[1].split()[1]) == postmaster:
                children.append(int(entry.name))
        return [postmaster, *children]

    def freeze(self) -> None:
        for pid in self._processes():
            os.kill(pid, signal.SIGSTOP)

    def thaw(self) -> None:
        for pid in self._processes():
            os.kill(pid, signal.SIGCONT)


@pytest.fixture
def server() -> Iterator[Server]:
    if not list(Path("/usr/lib/postgresql").glob("*/bin/pg_ctl")):
        pytest.skip("no PostgreSQL server installed to start one of the test's own")
    # Not under pytest's tmp_path: the server runs as `postgres` when the tests run as
    # root, and pytest's directories let no one else in.
    with tempfile.TemporaryDirectory(prefix="readiness-pg-") as where:
        running = Server(Path(where))
        try:
            yield running
        finally:
            running.thaw()
            running.stop()


class Serving:
    """`readiness serve` on DATABASE (a URL), against the fake Slack Web API."""

    def __init__(self, fake: FakeSlackThread, tmp: Path, database: str) -> None:
        port = free_port()
        self.url = f"http://127.0.0.1:{port}"
        self.log = tmp / "bot.log"
        env = {
            **os.environ,
            "SLACK_BOT_TOKEN": fake.bot_token,
            "SLACK_SIGNING_SECRET": "test-signing-secret",
            "SLACK_API_URL": fake.api_url,
            "DATABASE_URL": database,
            "READINESS_CONFIG": str(ROOT / "app.yaml"),
            "PORT": str(port),
        }
        with self.log.open("ab") as out:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "bot", "serve", "--host", "127.0.0.1"],
                env=env,
                cwd=ROOT,
                stdout=out,
                stderr=subprocess.STDOUT,
            )

    def health(self) -> tuple[int, Any]:
        answer = httpx.get(f"{self.url}/healthz", timeout=10)
        return answer.status_code, answer.json()

    def until(self, status: int, within: float = 30) -> tuple[float, Any]:
        """Seconds until /healthz answers STATUS, and what it said then."""
        started = time.monotonic()
        while time.monotonic() - started < within:
            assert self.process.poll() is None, self.log.read_text()[-3000:]
            try:
                answered, body = self.health()
            except httpx.HTTPError:
                answered, body = 0, None
            if answered == status:
                return time.monotonic() - started, body
            time.sleep(0.1)
        raise AssertionError(f"/healthz never answered {status}: {self.log.read_text()[-3000:]}")

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(15)


@pytest.fixture
def serving(tmp_path: Path) -> Iterator[Callable[[str], Serving]]:
    started: list[Serving] = []
    with FakeSlackThread() as fake:

        def start(database: str) -> Serving:
            bot = Serving(fake, tmp_path, database)
            started.append(bot)
            bot.until(200)
            return bot

        try:
            yield start
        finally:
            for bot in started:
                bot.stop()


def database_on(server: Server) -> str:
    """A database of the bot's own on SERVER; its URL."""
    run_sql(server.url, 'CREATE DATABASE "readiness"')
    return make_url(server.url).set(database="readiness").render_as_string(hide_password=False)


def test_503_while_the_server_is_stopped_and_200_once_it_is_back(
    server: Server, serving: Callable[[str], Serving]
) -> None:
    bot = serving(database_on(server))
    assert bot.health() == (200, {"ok": True})

    server.stop()
    assert bot.health() == (503, UNAVAILABLE)  # at once: the connection is refused
    assert "health check: database unavailable" in bot.log.read_text()

    server.start()
    took, said = bot.until(200)
    assert said == {"ok": True} and took < 5


def test_503_while_the_bots_database_refuses_connections(
    databases: Databases, serving: Callable[[str], Serving]
) -> None:
    """On the suite's shared server: only the bot's own database is closed, for a moment."""
    url = databases.new_postgresql()
    name, admin = make_url(url).database, server_url()
    assert admin is not None
    bot = serving(url)
    assert bot.health() == (200, {"ok": True})

    run_sql(
        admin,
        f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS false',
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
        f"WHERE datname = '{name}' AND pid <> pg_backend_pid()",
    )
    try:
        assert bot.health() == (503, UNAVAILABLE)
    finally:
        run_sql(admin, f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS true')
    assert bot.until(200)[1] == {"ok": True}


def test_503_within_a_second_when_the_server_never_answers(
    server: Server, serving: Callable[[str], Serving]
) -> None:
    """A database that accepts nothing and refuses nothing (a frozen server, a network
    that drops packets) is unavailable too: /healthz waits a second, not the driver's
    minute, so it answers inside a probe's timeout (2 s in deploy/kubernetes)."""
    bot = serving(database_on(server))
    server.freeze()
    try:
        started = time.monotonic()
        assert bot.health() == (503, UNAVAILABLE)
        assert time.monotonic() - started < 2
        assert bot.health() == (503, UNAVAILABLE)  # and again: nothing piles up
        assert "health check: database unavailable: no answer within 1 s" in bot.log.read_text()
    finally:
        server.thaw()
    assert bot.until(200)[1] == {"ok": True}
