"""`readiness serve` refuses a token that is not a bot token, in one line, before serving."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from bot.cli import main

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def taken_port() -> Iterator[int]:
    """A port something already listens on: serve stops there, once past the tokens."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        yield int(sock.getsockname()[1])


def serve(tmp_path: Path, port: int, bot_token: str) -> Result:
    env = {
        "SLACK_BOT_TOKEN": bot_token,
        "SLACK_SIGNING_SECRET": "test-signing-secret",
        "SLACK_APP_TOKEN": None,  # HTTP mode
        "DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'readiness.db'}",
    }
    args = ["serve", "--config", str(ROOT / "app.yaml"), "--host", "127.0.0.1", "--port", str(port)]
    return CliRunner().invoke(main, args, env=env)


@pytest.mark.parametrize(
    "token", ["test-token", "xoxp-1234-5678-user", "xapp-1-A0001-1-app", "XOXB-1", " xoxb-1"]
)
def test_a_token_that_is_not_a_bot_token_is_refused(
    tmp_path: Path, taken_port: int, token: str
) -> None:
    done = serve(tmp_path, taken_port, token)
    assert done.exit_code == 2
    assert done.stderr == (
        "environment: SLACK_BOT_TOKEN: a bot token starts with xoxb- "
        "(the app's Bot User OAuth Token)\n"
    )
    assert token not in done.output


@pytest.mark.parametrize(
    "token",
    [
        "xoxb-test",  # the fake Slack's (tests/scenario/harness.py)
        "xoxb-demo-0123456789abcdef",  # `readiness demo`'s
        "xoxb-7205138746-5720381916-Rd1nsLogScanT0ken4xQ",  # shaped as Slack's
        "xoxe.xoxb-1-MS0yLTcyMDUxMzg3NDY",  # a rotating bot token
    ],
)
def test_a_bot_token_is_accepted(tmp_path: Path, taken_port: int, token: str) -> None:
    done = serve(tmp_path, taken_port, token)
    assert done.exit_code == 2  # the port, past the tokens
    assert done.stderr.startswith(f"cannot listen on 127.0.0.1:{taken_port}: "), done.stderr
    assert "SLACK_BOT_TOKEN" not in done.stderr
