"""/metrics and JSON logs, read after a real flow over HTTP."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from bot.fake_slack import FakeSlackThread
from tests.databases import Databases
from tests.scenario.conftest import Slack
from tests.scenario.harness import Bot, ThreadedTarget


@pytest.fixture(scope="module")
def bot(
    fake: FakeSlackThread,
    target: ThreadedTarget,
    module_databases: Databases,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Bot]:
    tmp: Path = tmp_path_factory.mktemp("observability")
    running = Bot(fake, target, tmp, module_databases.url(tmp), LOG_FORMAT="json").start()
    yield running
    running.stop()


def scrape(bot: Bot) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    answer = httpx.get(f"{bot.url}/metrics", timeout=10)
    assert answer.status_code == 200
    assert answer.headers["Content-Type"].startswith("text/plain; version=")
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(answer.text)
        for sample in family.samples
    }


def value(samples: dict, name: str, **labels: str) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


def test_metrics_count_what_the_scenario_did(slack: Slack, bot: Bot, name: str) -> None:
    before = scrape(bot)
    slack.command("UREL", f"new {name}")
    slack.checks_done(name)
    slack.command("UNOBODY", f"status {name}")
    slack.refusal("UNOBODY", lambda: slack.click("UNOBODY", name, "sign:engineering_lead"))
    slack.open_modal("UENG", name, "sign:engineering_lead")  # a listener's own Web API call
    slack.wait_card(name, "Readiness")
    after = scrape(bot)

    def grew(metric: str, **labels: str) -> float:
        return value(after, metric, **labels) - value(before, metric, **labels)

    assert grew("readiness_slack_requests_total", surface="command", outcome="200") == 2
    assert grew("readiness_slack_requests_total", surface="action", outcome="200") == 2
    assert grew("readiness_ack_seconds_count", surface="command") == 2
    assert grew("readiness_check_results_total", type="http", status="pass") >= 10
    assert grew("readiness_check_seconds_count", type="latency") == 2
    assert grew("readiness_slack_api_calls_total", method="chat.postMessage", status="ok") >= 1
    assert grew("readiness_slack_api_calls_total", method="views.open", status="ok") == 1
    states = dict(bot.sql("SELECT state, count(*) FROM releases GROUP BY state"))
    assert value(after, "readiness_releases", state="open") == states.get("open", 0)
    assert ("readiness_outbound_pending", (("kind", "message"),)) in after


def test_json_logs_carry_one_request_id_per_slack_request(
    slack: Slack, bot: Bot, name: str
) -> None:
    slack.command("UREL", f"new {name}")
    slack.command("UREL", f"status {name}")
    lines = [json.loads(line) for line in bot.log().splitlines() if line.startswith("{")]
    commands = [line for line in lines if str(line.get("message", "")).startswith("/readiness")]
    assert len(commands) >= 2
    assert all({"time", "level", "logger", "request_id"} <= set(line) for line in commands)
    ids = [line["request_id"] for line in commands[-2:]]
    assert "-" not in ids and ids[0] != ids[1]


def test_a_clean_start_logs_no_warning(bot: Bot) -> None:
    lines = [json.loads(line) for line in bot.log().splitlines() if line.startswith("{")]
    until = next(i for i, line in enumerate(lines) if line["message"].startswith("listening on"))
    assert [line for line in lines[:until] if line["level"] != "INFO"] == []
