"""A team's own check type, installed as a `readiness.checks` entry point (the README's)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from tests.scenario.harness import ROOT

CONFIG = """
product: ACME
roles:
  eng: {title: Engineering Lead, members: [U1]}
  cto: {title: CTO, members: [U2], final: true}
sections:
  - id: queues
    title: Queues
    items:
      - id: orders
        title: Orders queue drained
        check: {type: queue_depth, url: "URL/depth", max: MAX}
"""


def install_plugin(site: Path) -> None:
    """What `pip install` of a package declaring the entry point leaves on sys.path."""
    shutil.copy(ROOT / "docs" / "examples" / "acme_checks.py", site / "acme_checks.py")
    info = site / "acme_checks-0.1.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: acme-checks\nVersion: 0.1\n")
    (info / "entry_points.txt").write_text("[readiness.checks]\nqueue_depth = acme_checks:CHECK\n")


def readiness(site: Path, *args: str) -> subprocess.CompletedProcess[str]:
    path = os.pathsep.join(filter(None, [str(site), os.environ.get("PYTHONPATH")]))
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        env={**os.environ, "PYTHONPATH": path},
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_a_plugin_check_type_is_validated_and_run(tmp_path: Path) -> None:
    site = tmp_path / "site"
    site.mkdir()
    install_plugin(site)

    class Queue(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = b'{"depth": 12}'
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Queue)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_port}"
    try:
        config = tmp_path / "app.yaml"
        config.write_text(CONFIG.replace("URL", url).replace("MAX", "100"))
        done = readiness(site, "check", "--json", "--config", str(config))
        assert done.returncode == 0, done.stderr
        (item,) = json.loads(done.stdout)["items"]
        assert (item["status"], item["reason"]) == ("pass", "queue depth 12")

        config.write_text(CONFIG.replace("URL", url).replace("MAX", "5"))
        done = readiness(site, "check", "--json", "--config", str(config))
        assert done.returncode == 1
        assert json.loads(done.stdout)["items"][0]["reason"] == "queue depth 12 > 5"

        config.write_text(CONFIG.replace("URL", url).replace("MAX", "lots"))
        done = readiness(site, "config", "validate", str(config))
        assert done.returncode == 2
        assert f"{config}: sections.0.items.0.check.max: " in done.stderr
    finally:
        server.shutdown()
        server.server_close()
