"""`readiness demo` as a user starts it: a subprocess on a free port, with phases of seconds."""

from __future__ import annotations

import json
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def readiness() -> list[str]:
    """The `readiness` console script of this interpreter's environment."""
    script = shutil.which("readiness", path=str(Path(sys.executable).parent))
    return [script] if script else [sys.executable, "-m", "bot"]


class Demo:
    def __init__(self, tmp: Path) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}/"
        self.log_path = tmp / "demo.log"
        self.db_path = tmp / "demo.db"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> Demo:
        command = [*readiness(), "demo", "--port", str(self.port), "--fast"]
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                [*command, "--db", str(self.db_path)],
                stdout=log,
                stderr=subprocess.STDOUT,
                cwd=ROOT,
            )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"readiness demo exited:\n{self.log()}")
            try:
                if httpx.get(f"{self.url}healthz", timeout=1).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        raise RuntimeError(f"readiness demo did not start:\n{self.log()}")

    def stop(self) -> int | None:
        if self.process is None or self.process.poll() is not None:
            return None if self.process is None else self.process.returncode
        self.process.send_signal(signal.SIGINT)
        try:
            return self.process.wait(20)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(5)
            raise AssertionError(f"readiness demo did not stop on Ctrl+C:\n{self.log()}") from None

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")[-4000:]


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Demo]:
    running = Demo(tmp_path_factory.mktemp("demo")).start()
    yield running
    running.stop()


def states(stream: httpx.Response) -> Iterator[dict[str, Any]]:
    """The `state` events of a /demo/events stream, decoded."""
    event = ""
    for line in stream.iter_lines():
        if line.startswith("event: "):
            event = line.removeprefix("event: ")
        elif line.startswith("data: ") and event == "state":
            yield json.loads(line.removeprefix("data: "))
