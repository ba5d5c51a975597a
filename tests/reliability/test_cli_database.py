"""The commands that open the database: a bad DATABASE_URL, a missing or foreign file, or
a busy port is one line naming the problem and exit 2, never a traceback, and a command
that only reads never leaves a new database file behind."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
READERS = (["audit", "verify"], ["export", "R 1"], ["check", "R 1"])
pytestmark = pytest.mark.sqlite(reason="about SQLite's files and the URLs the commands refuse")


def readiness(*args: str, cwd: Path, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        env={
            **os.environ,
            "READINESS_CONFIG": str(ROOT / "app.yaml"),
            "SLACK_BOT_TOKEN": "xoxb-test",
            "SLACK_SIGNING_SECRET": "secret",
            **env,
        },
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=60,
    )


def refused(done: subprocess.CompletedProcess[str], *needles: str) -> None:
    assert done.returncode == 2, done.stderr
    assert "Traceback" not in done.stderr + done.stdout, done.stderr
    for needle in needles:
        assert needle in done.stderr, done.stderr


@pytest.mark.parametrize(
    ("url", "why"),
    [
        ("garbage", "'garbage' is not a database URL for Readiness"),
        ("sqlite:///r.db", "use sqlite+aiosqlite:///PATH"),  # no async driver
        ("postgresql://db/readiness", "give the driver, postgresql+asyncpg://"),
        ("mysql+aiomysql://db/readiness", "or postgresql+asyncpg://USER:PASSWORD@HOST"),
    ],
)
def test_a_url_readiness_cannot_use_is_named(tmp_path: Path, url: str, why: str) -> None:
    refused(readiness("db", "upgrade", cwd=tmp_path, DATABASE_URL=url), "DATABASE_URL", why)
    assert list(tmp_path.iterdir()) == []


def test_reading_commands_never_create_a_database(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'typo.db'}"
    for command in READERS:
        refused(readiness(*command, cwd=tmp_path, DATABASE_URL=url), "no database at")
    assert not (tmp_path / "typo.db").exists()


def test_a_file_that_is_not_a_database_is_named(tmp_path: Path) -> None:
    (tmp_path / "junk.db").write_text("not a database\n")
    url = f"sqlite+aiosqlite:///{tmp_path / 'junk.db'}"
    for command in [*READERS, ["db", "upgrade"], ["serve", "--port", "0"]]:
        refused(readiness(*command, cwd=tmp_path, DATABASE_URL=url), "file is not a database")
    assert (tmp_path / "junk.db").read_text() == "not a database\n"


def test_db_upgrade_says_when_it_created_the_database(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'r.db'}"
    first = readiness("db", "upgrade", cwd=tmp_path, DATABASE_URL=url)
    assert first.returncode == 0 and first.stdout == f"{url}: created, schema is up to date\n"
    again = readiness("db", "upgrade", cwd=tmp_path, DATABASE_URL=url)
    assert again.returncode == 0 and again.stdout == f"{url}: schema is up to date\n"


def test_a_directory_that_does_not_exist_is_named(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'no' / 'such' / 'r.db'}"
    done = readiness("db", "upgrade", cwd=tmp_path, DATABASE_URL=url)
    refused(done, "DATABASE_URL", "unable to open database file")


def test_a_directory_given_as_the_database_is_named(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path}"
    done = readiness("audit", "verify", cwd=tmp_path, DATABASE_URL=url)
    refused(done, "DATABASE_URL: cannot use", "unable to open database file")


def test_serve_on_a_host_that_cannot_be_is_named(tmp_path: Path) -> None:
    done = readiness("serve", "--host", "a" * 64, "--port", "3000", cwd=tmp_path)
    refused(done, f"cannot listen on {'a' * 64}:3000")


def test_serve_on_a_busy_port_says_so(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = str(taken.getsockname()[1])
        done = readiness(
            "serve",
            "--host",
            "127.0.0.1",
            "--port",
            port,
            cwd=tmp_path,
            DATABASE_URL=f"sqlite+aiosqlite:///{tmp_path / 'r.db'}",
        )
    refused(done, f"cannot listen on 127.0.0.1:{port}", "in use")
    assert not (tmp_path / "r.db").exists()  # refused before anything started
