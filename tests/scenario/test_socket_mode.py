"""Socket Mode: with SLACK_APP_TOKEN and no signing secret, the real bot asks the fake Web
API for a WebSocket URL (apps.connections.open), connects to a local server playing
Slack's side, and acknowledges envelopes on it; /healthz still serves over HTTP, while
/slack/events accepts nothing."""

from __future__ import annotations

import itertools
import json
import time
from collections.abc import Iterator

import httpx
import pytest

from bot.fake_slack import FakeSlackThread, SocketModeServer, payloads
from tests.databases import Databases
from tests.scenario.harness import CHANNEL, SECRET, Bot, ThreadedTarget, text_of

pytestmark = pytest.mark.once(reason="how requests arrive, not what is stored")

APP_TOKEN = "xapp-1-A0001-1-socketmodetest"
ACK_DEADLINE = 3.0  # Slack's, for every envelope
_events = itertools.count(1)


@pytest.fixture(scope="module")
def server(fake: FakeSlackThread) -> Iterator[SocketModeServer]:
    with SocketModeServer() as running:
        fake.allow_socket_mode(running.url, APP_TOKEN)
        yield running
    fake.allow_socket_mode("", APP_TOKEN)


@pytest.fixture(scope="module")
def bot(
    fake: FakeSlackThread,
    target: ThreadedTarget,
    server: SocketModeServer,
    module_databases: Databases,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Bot]:
    tmp = tmp_path_factory.mktemp("socket")
    running = Bot(
        fake,
        target,
        tmp,
        module_databases.url(tmp),
        SLACK_APP_TOKEN=APP_TOKEN,
        LOG_FORMAT="json",
    )
    del running.env["SLACK_SIGNING_SECRET"]  # not needed in Socket Mode
    running.start()
    try:
        server.wait_connected()
    except TimeoutError:
        running.stop()
        raise AssertionError(f"the bot never connected:\n{running.log()[-3000:]}") from None
    yield running
    running.stop()


def command(fake: FakeSlackThread, user: str, text: str) -> dict[str, str]:
    """The fields of a slash command, as Slack puts them in the envelope's payload."""
    form = payloads.slash_command(
        user,
        text,
        channel_id=CHANNEL,
        channel_name="releases",
        response_url=fake.new_response_url(CHANNEL, user),
        trigger_id=fake.issue_trigger_id(user),
    )
    return {key: str(value) for key, value in payloads.decode(form).items()}


def acked(server: SocketModeServer, envelope_id: str, sent_at: float) -> dict[str, object]:
    ack = server.ack(envelope_id, timeout=ACK_DEADLINE)
    assert time.monotonic() - sent_at < ACK_DEADLINE
    assert server.problems == []
    return ack


def test_a_slash_command_is_acked_and_answered(
    bot: Bot, fake: FakeSlackThread, server: SocketModeServer
) -> None:
    assert fake.calls("apps.connections.open"), "the WebSocket URL comes from the Web API"
    before = len(fake.responses())
    sent_at = time.monotonic()
    envelope_id = server.slash_command(command(fake, "UENG", "help"))
    assert acked(server, envelope_id, sent_at) == {"envelope_id": envelope_id}
    (reply,) = fake.wait_for(lambda s: s.responses()[before:] or None, timeout=15)
    said = reply.text + "\n" + text_of(reply.blocks)
    assert "`/readiness new NAME" in said and "`/readiness status [NAME]`" in said


def test_socket_requests_are_counted_and_logged_with_a_request_id(
    bot: Bot, fake: FakeSlackThread, server: SocketModeServer
) -> None:
    def counted() -> float:
        metrics = httpx.get(f"{bot.url}/metrics", timeout=5).text
        line = 'readiness_slack_requests_total{outcome="200",surface="command"}'
        return sum(float(m.split()[-1]) for m in metrics.splitlines() if m.startswith(line))

    before, replies = counted(), len(fake.responses())
    for _ in range(2):
        sent_at = time.monotonic()
        acked(server, server.slash_command(command(fake, "UENG", "help")), sent_at)
    fake.wait_for(lambda s: len(s.responses()) >= replies + 2 or None, timeout=15)
    assert counted() == before + 2
    lines = [json.loads(line) for line in bot.log().splitlines() if line.startswith("{")]
    ids = [line["request_id"] for line in lines if line["message"].startswith("/readiness help")]
    assert len(ids) >= 2 and "-" not in ids[-2:] and ids[-1] != ids[-2]


def test_opening_the_home_tab_is_acked_and_published(
    bot: Bot, fake: FakeSlackThread, server: SocketModeServer
) -> None:
    event = {
        "type": "app_home_opened",
        "user": "UNOBODY",
        "channel": fake.dm_channel("UNOBODY"),
        "tab": "home",
    }
    body = payloads.decode(payloads.event_callback(event, f"EvSOCKET{next(_events):04d}"))
    sent_at = time.monotonic()
    envelope_id = server.event(body)
    assert acked(server, envelope_id, sent_at) == {"envelope_id": envelope_id}
    home = fake.wait_for(lambda s: s.home("UNOBODY"), timeout=15)
    assert "Nothing is waiting for your sign-off" in home.all_text()


def test_http_serves_health_but_no_slack_requests(bot: Bot) -> None:
    assert httpx.get(f"{bot.url}/healthz", timeout=5).status_code == 200
    body = payloads.slash_command("UENG", "help", channel_id=CHANNEL)
    for secret in (SECRET, ""):  # the test secret, and the empty key
        headers = {"Content-Type": payloads.FORM, **payloads.sign(secret, body)}
        answer = httpx.post(bot.events_url, content=body, headers=headers, timeout=5)
        assert answer.status_code == 401
    log = bot.log()
    assert "Traceback" not in log, log[-3000:]
    assert bot.sql("SELECT count(*) FROM releases")  # serving made the schema


def test_a_refused_app_token_is_said_once_and_health_still_serves(
    fake: FakeSlackThread,
    target: ThreadedTarget,
    server: SocketModeServer,
    module_databases: Databases,
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    tmp = tmp_path_factory.mktemp("refused")
    refused = Bot(fake, target, tmp, module_databases.url(tmp), SLACK_APP_TOKEN="xapp-nope")
    del refused.env["SLACK_SIGNING_SECRET"]
    asked, connections = len(fake.calls("apps.connections.open")), server.connections
    refused.start()
    try:
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and len(fake.calls("apps.connections.open")) < asked + 3:
            time.sleep(0.1)  # asked again after 1 s, then after 2 s more
        assert len(fake.calls("apps.connections.open")) >= asked + 3
        assert httpx.get(f"{refused.url}/healthz", timeout=5).status_code == 200
    finally:
        refused.stop()
    log = refused.log()
    assert log.count("Slack refused the app-level token (invalid_auth)") == 1, log[-3000:]
    assert "Traceback" not in log
    assert server.connections == connections
