"""A real Prometheus and Alertmanager (the Debian packages), started once per test session.

Prometheus scrapes itself and a small local target exposing LUMINES-style gauges every
second, evaluates `RULES` every second and sends its alerts to the Alertmanager. Both
listen on free 127.0.0.1 ports and keep their data in a temporary directory.

Timings measured here (Prometheus 2.42, Alertmanager 0.25): both answer `/-/ready`
within ~0.3 s, but Prometheus hands scrape targets and Alertmanagers to their loops
through a discovery manager that batches updates every 5 s. The first scrape, and the
first alert Alertmanager receives, land ~6 s after start; tests poll for them with
`eventually`. Alerts are sent before any Alertmanager is known and dropped, and by
default re-sent only a minute later: hence `--rules.alert.resend-delay=1s`.
"""

from __future__ import annotations

import asyncio
import shutil
import socket
import subprocess
import tempfile
import threading
import time
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import IO, TypeVar

import httpx
import pytest

PROMETHEUS = "prometheus"
ALERTMANAGER = "prometheus-alertmanager"
READY_DEADLINE = 20.0  # seconds; both are ready in well under one here

# What the local target exposes: LUMINES's per-route error ratio and p95 latency.
# `/api/idle` had no requests, so its quantile is NaN, as a real summary's would be.
METRICS = {
    'lumines_http_error_ratio{route="/api/health"}': "0",
    'lumines_http_error_ratio{route="/api/releases"}': "0.0004",
    'lumines_http_error_ratio{route="/api/sign"}': "0.25",
    'lumines_http_p95_seconds{route="/api/health"}': "0.012",
    'lumines_http_p95_seconds{route="/api/idle"}': "NaN",
}

# Alerts that fire from the first evaluation on, whatever is scraped.
RULES = """
groups:
  - name: readiness-tests
    interval: 1s
    rules:
      - alert: AlwaysFiring
        expr: vector(1)
        for: 0s
        labels: {severity: critical, team: platform}
        annotations: {summary: "Always firing, for the readiness tests"}
      - alert: DiskFilling
        expr: vector(1)
        labels: {severity: warning, team: platform}
      - alert: NightlyBackupLate
        expr: vector(1)
        labels: {severity: info, team: storage}
"""

ALERTMANAGER_CONFIG = """
route:
  receiver: blackhole
  group_wait: 1s
  group_interval: 1s
  repeat_interval: 1h
receivers:
  - name: blackhole
"""


@dataclass(frozen=True)
class Monitoring:
    """Where the servers listen (base URLs, no trailing slash)."""

    prometheus: str
    alertmanager: str
    target: str  # the scraped LUMINES-style /metrics target, as Prometheus labels it
    logs: Path  # the servers' stderr, one file each


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class _MetricsHandler(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        if self.path != "/metrics":
            self.send_error(404)
            return
        names = sorted({series.split("{")[0] for series in METRICS})
        lines = [f"# TYPE {name} gauge" for name in names]
        lines += [f"{series} {value}" for series, value in METRICS.items()]
        body = ("\n".join(lines) + "\n").encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/plain; version=0.0.4")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:  # quiet: scraped every second
        pass


@dataclass
class _Server:
    name: str
    process: subprocess.Popen[bytes]
    stderr: IO[bytes]
    log: Path

    def tail(self) -> str:
        self.stderr.flush()
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-25:])

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.stderr.close()


def _start(name: str, args: list[str], logs: Path) -> _Server:
    log = logs / f"{name}.log"
    stderr = log.open("wb")
    process = subprocess.Popen(
        args, stdin=subprocess.DEVNULL, stdout=stderr, stderr=subprocess.STDOUT
    )
    return _Server(name, process, stderr, log)


def _wait_ready(servers: dict[str, _Server], urls: dict[str, str]) -> None:
    """Wait for every server's /-/ready; fail with its output if one exits or never is."""
    deadline = time.monotonic() + READY_DEADLINE
    waiting = dict(urls)
    with httpx.Client(timeout=1.0) as client:
        while waiting:
            for name, url in list(waiting.items()):
                server = servers[name]
                if server.process.poll() is not None:
                    pytest.fail(
                        f"{name} exited with status {server.process.returncode}:\n{server.tail()}"
                    )
                try:
                    if client.get(f"{url}/-/ready").status_code == 200:
                        del waiting[name]
                except httpx.TransportError:
                    pass
            if waiting and time.monotonic() > deadline:
                shown = "\n\n".join(f"{n}:\n{servers[n].tail()}" for n in waiting)
                pytest.fail(f"not ready within {READY_DEADLINE:g}s: {', '.join(waiting)}\n{shown}")
            time.sleep(0.05)


@pytest.fixture(scope="session", name="monitoring")
def monitoring_fixture() -> Iterator[Monitoring]:
    """A running Prometheus and Alertmanager, ready for queries (not yet holding data)."""
    missing = [b for b in (PROMETHEUS, ALERTMANAGER) if shutil.which(b) is None]
    if missing:
        pytest.skip(
            f"{' and '.join(missing)} not installed "
            "(apt-get install -y prometheus prometheus-alertmanager)"
        )
    target = ThreadingHTTPServer(("127.0.0.1", 0), _MetricsHandler)
    target.daemon_threads = True
    serving = threading.Thread(target=target.serve_forever, name="metrics-target", daemon=True)
    serving.start()
    target_address = f"127.0.0.1:{target.server_address[1]}"
    servers: dict[str, _Server] = {}
    with tempfile.TemporaryDirectory(prefix="readiness-monitoring-") as tmp:
        root = Path(tmp)
        am_port, prom_port = _free_port(), _free_port()
        (root / "alertmanager.yml").write_text(ALERTMANAGER_CONFIG)
        (root / "rules.yml").write_text(RULES)
        (root / "prometheus.yml").write_text(
            f"""
global: {{scrape_interval: 1s, scrape_timeout: 1s, evaluation_interval: 1s}}
rule_files: [{root / "rules.yml"}]
alerting:
  alertmanagers:
    - static_configs: [{{targets: ["127.0.0.1:{am_port}"]}}]
scrape_configs:
  - job_name: prometheus
    static_configs: [{{targets: ["127.0.0.1:{prom_port}"]}}]
  - job_name: lumines
    static_configs: [{{targets: ["{target_address}"]}}]
"""
        )
        try:
            servers["alertmanager"] = _start(
                "alertmanager",
                [
                    ALERTMANAGER,
                    f"--config.file={root / 'alertmanager.yml'}",
                    f"--storage.path={root / 'alertmanager-data'}",
                    f"--web.listen-address=127.0.0.1:{am_port}",
                    "--cluster.listen-address=",
                ],
                root,
            )
            servers["prometheus"] = _start(
                "prometheus",
                [
                    PROMETHEUS,
                    f"--config.file={root / 'prometheus.yml'}",
                    f"--storage.tsdb.path={root / 'prometheus-data'}",
                    f"--web.listen-address=127.0.0.1:{prom_port}",
                    "--rules.alert.resend-delay=1s",
                ],
                root,
            )
            urls = {
                "alertmanager": f"http://127.0.0.1:{am_port}",
                "prometheus": f"http://127.0.0.1:{prom_port}",
            }
            _wait_ready(servers, urls)
            yield Monitoring(urls["prometheus"], urls["alertmanager"], target_address, root)
        finally:
            for server in servers.values():
                server.stop()
            target.shutdown()
            target.server_close()
            serving.join(timeout=5)


T = TypeVar("T")


async def eventually(
    what: str, probe: Callable[[], Awaitable[T | None]], timeout: float = 20.0
) -> T:
    """Poll `probe` until it returns something other than None; fail naming `what` if never."""
    deadline = time.monotonic() + timeout
    while True:
        got = await probe()
        if got is not None:
            return got
        if time.monotonic() > deadline:
            pytest.fail(f"{what}: not within {timeout:g}s")
        await asyncio.sleep(0.1)


async def alert_arrived(client: httpx.AsyncClient, alertmanager: str, alertname: str) -> None:
    """Wait until Alertmanager holds an active alert of that name (sent by Prometheus)."""

    async def probe() -> bool | None:
        got = await client.get(
            f"{alertmanager}/api/v2/alerts", params={"filter": f'alertname="{alertname}"'}
        )
        return True if got.status_code == 200 and got.json() else None

    await eventually(f"{alertname} reaching Alertmanager", probe)


async def scraped(client: httpx.AsyncClient, prometheus: str, job: str) -> None:
    """Wait until Prometheus has scraped the job at least once."""

    async def probe() -> bool | None:
        got = await client.get(f"{prometheus}/api/v1/query", params={"query": f'up{{job="{job}"}}'})
        return True if got.status_code == 200 and got.json()["data"]["result"] else None

    await eventually(f"a first scrape of job {job!r}", probe)
