"""A check run seen from Slack: progress on the card, the final state last, acks on time."""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest

from bot.fake_slack import FakeSlackThread, SlackDriver
from tests.databases import Databases
from tests.scenario.harness import CHANNEL, SECRET, Bot, ThreadedTarget, text_of

ITEMS = 10
CONFIG = """
product: SLOW
roles:
  eng: {title: Engineering Lead, members: [UENG]}
  cto: {title: CTO, members: [UCTO], final: true}
sections:
  - id: slow
    title: Slow service
    items:
ITEMS
checks: {concurrency: 2}
slack: {card_update_interval: 200ms, post_interval: 20ms}
"""


class Slow(BaseHTTPRequestHandler):
    """Answers 200 after 0.6 s: ten checks two at a time make a run of about 3 s."""

    def do_GET(self) -> None:
        time.sleep(0.6)
        self.send_response(200)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"ok")

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def slow_url() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), Slow)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="module")
def slow_bot(
    fake: FakeSlackThread,
    target: ThreadedTarget,
    slow_url: str,
    module_databases: Databases,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Bot]:
    tmp: Path = tmp_path_factory.mktemp("slow")
    items = "\n".join(
        f'      - {{id: s{n}, title: "Part {n}", check: {{type: http, url: "{slow_url}/{n}", '
        "timeout: 5s}}"
        for n in range(ITEMS)
    )
    config = tmp / "slow.yaml"
    config.write_text(CONFIG.replace("ITEMS", items))
    url = module_databases.url(tmp)
    running = Bot(fake, target, tmp, url, READINESS_CONFIG=str(config)).start()
    yield running
    running.stop()


def card_texts_of(fake: Any, name: str) -> list[str]:
    """Every version of the card the bot sent, in order (runs on the fake's loop)."""
    texts = []
    for call in fake.calls():
        if call.method in ("chat.postMessage", "chat.update"):
            if str(call.args.get("text", "")).startswith(f"{name}:"):
                texts.append(text_of(call.args.get("blocks") or []))
    return texts


def test_progress_shows_while_acks_stay_on_time(fake: FakeSlackThread, slow_bot: Bot) -> None:
    name = "SLOW 1.0.0"
    # Slack gives up on an ack after 3 s: a client that waits no longer stands in for it.
    driver = SlackDriver(slow_bot.events_url, SECRET, fake, client=httpx.Client(timeout=3.0))
    try:
        assert driver.command("UENG", f"new {name}", channel=CHANNEL).status_code == 200
        fake.wait_for(
            lambda s: any("Running checks" in t for t in card_texts_of(s, name)), timeout=15
        )

        # While the run is in flight, every request is still acknowledged in time.
        def status(_: int) -> int:
            return driver.command("UENG", f"status {name}", channel=CHANNEL).status_code

        with ThreadPoolExecutor(10) as pool:
            assert list(pool.map(status, range(20))) == [200] * 20

        fake.wait_for(
            lambda s: (t := card_texts_of(s, name)) and "Running checks" not in t[-1], timeout=20
        )
    finally:
        driver.close()
    texts = fake.on_loop(lambda f: card_texts_of(f, name))
    progress = [
        (int(m.group(1)), int(m.group(2)))
        for t in texts
        if (m := re.search(r"Running checks (\d+)/(\d+)", t))
    ]
    assert progress, texts
    assert all(total == ITEMS for _, total in progress)
    assert [done for done, _ in progress] == sorted(done for done, _ in progress)
    assert "Running checks" not in texts[-1] and "Readiness 100%" in texts[-1]
