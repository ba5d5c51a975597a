"""After approval, over HTTP: mark deployed, three short phases, a kill -9 in the middle,
and exactly one digest per phase in the channel, in order."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.fake_slack import FakeSlackThread
from bot.slack import ids
from tests.databases import Databases
from tests.scenario.conftest import Slack, approve_all_but_final
from tests.scenario.harness import CHANNEL, Bot, ThreadedTarget, scenario_config

PHASES = """    - {id: first_hour, title: "Immediate (First Hour)", duration: 3s, every: 1s}
    - {id: first_day, title: "Extended (First 24 Hours)", duration: 3s, every: 1s}
    - {id: first_week, title: "Ongoing (First Week)", duration: 3s, every: 1s}
"""
TITLES = ["Immediate (First Hour)", "Extended (First 24 Hours)", "Ongoing (First Week)"]


@pytest.fixture(scope="module")
def bot(
    fake: FakeSlackThread,
    target: ThreadedTarget,
    module_databases: Databases,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Bot]:
    """The shipped app.yaml with phases of seconds and a fast tick."""
    tmp: Path = tmp_path_factory.mktemp("monitoring")
    text = scenario_config(tmp).read_text()
    text = re.sub(r"(?m)^    - \{id: first_(hour|day|week), .*\n", "", text)
    text = text.replace("  phases:\n", "  phases:\n" + PHASES, 1)
    text = text.replace("  tick: 15s", "  tick: 200ms")
    config = tmp / "monitoring.yaml"
    config.write_text(text)
    url = module_databases.url(tmp)
    running = Bot(fake, target, tmp, url, READINESS_CONFIG=str(config)).start()
    yield running
    running.stop()


def digests(fake: FakeSlackThread, name: str) -> list[str]:
    """The digests of this release posted to the channel (top level), in order."""
    return [
        m.text.split(" digest", 1)[0]
        for m in fake.messages(CHANNEL)
        if " digest" in m.text and f"— {name}:" in m.text
    ]


def test_phases_digest_once_each_in_order_across_a_kill(
    slack: Slack, bot: Bot, fake: FakeSlackThread, name: str
) -> None:
    slack.command("UREL", f"new {name} ref=abc123")
    slack.checks_done(name)
    approve_all_but_final(slack, name)
    assert slack.sign("UCTO", name, "cto").status_code == 200
    slack.wait_card(name, "Approved for production deployment")

    refusal = slack.refusal("UENG", lambda: slack.click("UENG", name, ids.DEPLOYED))
    assert "Only the DevOps Lead or the CTO/Engineering Manager can mark" in refusal
    slack.click("UOPS", name, ids.DEPLOYED)
    slack.wait_thread(name, "marked *" + name + "* deployed")
    fake.wait_for(lambda s: digests(s, name)[:1] == TITLES[:1] or None, timeout=20)

    bot.kill()  # in the middle of the second phase
    time.sleep(1.5)
    bot.start()

    fake.wait_for(lambda s: len(digests(s, name)) >= 3 or None, timeout=30)
    time.sleep(1.0)  # anything doubled would have arrived by now
    assert fake.on_loop(lambda s: digests(s, name)) == TITLES
    slack.wait_card(name, "Done", *(f"{title}: digest posted" for title in TITLES))
    thread = slack.thread(name)
    assert any("monitoring of *" + name + "* is complete" in t for t in thread)


def test_a_breach_is_answered_from_its_alert_in_the_thread(
    slack: Slack, target: ThreadedTarget, fake: FakeSlackThread, name: str
) -> None:
    slack.command("UREL", f"new {name} ref=abc123")
    slack.checks_done(name)
    approve_all_but_final(slack, name)
    assert slack.sign("UCTO", name, "cto").status_code == 200
    slack.wait_card(name, "Approved for production deployment")
    target.state.broken.add("nats")
    try:
        slack.command("UOPS", f"deployed {name}")
        ts = slack.card(name).ts
        alert = fake.wait_for(
            lambda s: next(
                (m for m in s.thread(CHANNEL, ts) if m.text.startswith(":rotating_light:")), None
            ),
            timeout=20,
        )
    finally:
        target.state.broken.discard("nats")
    assert "*All services healthy: NATS (/api/health/nats)* is failing" in alert.text
    assert "<@UOPS>" in alert.text and "<@UCTO>" in alert.text
    refusal = slack.refusal("UENG", lambda: slack.click("UENG", name, ids.ALERT_ACK, message=alert))
    assert "or the deployment team can answer this alert" in refusal
    slack.click("UOPS", name, ids.ALERT_ACK, message=alert)
    slack.wait_thread(name, "<@UOPS> acknowledged the alert")
    slack.wait_thread(name, "recovered on *" + name + "*")


def test_three_items_breaking_at_once_are_one_alert_edited_in_place(
    slack: Slack, target: ThreadedTarget, fake: FakeSlackThread, name: str
) -> None:
    """The database, the cache and NATS fail together: one alert in the thread, calling
    the responders once, edited (chat.update) as they recover, and one recovery post."""
    slack.command("UREL", f"new {name} ref=abc123")
    slack.checks_done(name)
    approve_all_but_final(slack, name)
    assert slack.sign("UCTO", name, "cto").status_code == 200
    slack.wait_card(name, "Approved for production deployment")
    target.state.broken.update({"db", "cache", "nats"})
    try:
        slack.command("UOPS", f"deployed {name}")
        ts = slack.card(name).ts

        def alerts(s: FakeSlackThread) -> list[object]:
            return [m for m in s.thread(CHANNEL, ts) if ":rotating_light:" in m.text]

        (alert,) = fake.wait_for(lambda s: alerts(s) or None, timeout=20)
        fake.wait_for(
            lambda s: next(
                (m for m in s.thread(CHANNEL, ts) if "*3 post-deploy items* are failing" in m.text),
                None,
            ),
            timeout=20,
        )
        target.state.broken.discard("cache")
        fake.wait_for(
            lambda s: next(
                (m for m in s.thread(CHANNEL, ts) if "*2 post-deploy items* are failing" in m.text),
                None,
            ),
            timeout=20,
        )
    finally:
        target.state.broken.clear()
    slack.wait_thread(name, "every post-deploy item passes again")
    thread = [m for m in fake.thread(CHANNEL, ts)]
    assert (
        len([m for m in thread if ":rotating_light:" in m.text or "Every post-deploy" in m.text])
        == 1
    )
    assert sum("every post-deploy item passes again" in m.text for m in thread) == 1
    updates = [
        c for c in fake.calls() if c.method == "chat.update" and c.args.get("ts") == alert.ts
    ]
    assert updates, "the alert was never edited"
    final = fake.wait_for(
        lambda s: next(
            (
                m
                for m in s.thread(CHANNEL, ts)
                if m.ts == alert.ts and "Every post-deploy" in m.text
            ),
            None,
        ),
        timeout=20,
    )
    assert "<@UOPS>" not in final.text  # the edit calls nobody again
    assert not any(b["type"] == "actions" for b in final.blocks)  # over: no buttons
