"""A change freeze over HTTP (issue 17's acceptance): with a freeze covering now, an
approved release's gate answers 409 "change freeze"; the final approver's `Deploy during
freeze…` with a reason opens it (200), and `GET /api/releases/NAME` lists the exception;
`/readiness freezes` lists the freeze."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from bot.fake_slack import FakeSlackThread
from bot.slack import ids
from tests.databases import Databases
from tests.scenario.conftest import Slack, approve_all_but_final
from tests.scenario.harness import Bot, ThreadedTarget, edited_app

TOKEN = "freeze-api-token"


@pytest.fixture(scope="module")
def bot(
    fake: FakeSlackThread,
    target: ThreadedTarget,
    module_databases: Databases,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Bot]:
    """The scenario bot with a freeze from an hour ago to three hours from now."""
    tmp = tmp_path_factory.mktemp("freezes")
    now = datetime.now(UTC).replace(second=0, microsecond=0)
    start, end = (now - timedelta(hours=1)).isoformat(), (now + timedelta(hours=3)).isoformat()
    freeze = {"id": "incident", "title": "Incident freeze", "from": start, "to": end}
    config = edited_app(tmp, lambda app: app.update(freezes=[freeze]), "frozen.yaml")
    running = Bot(
        fake,
        target,
        tmp,
        module_databases.url(tmp),
        READINESS_API_TOKEN=TOKEN,
        READINESS_CONFIG=str(config),
    ).start()
    yield running
    running.stop()


def test_a_freeze_holds_the_gate_until_the_final_approvers_exception(
    slack: Slack, bot: Bot, name: str
) -> None:
    assert f"Opened *{name}*" in slack.command("UREL", f"new {name} ref=abc123")
    slack.checks_done(name)
    approve_all_but_final(slack, name)
    response = slack.sign("UCTO", name, "cto")
    assert response.status_code == 200 and not response.text, response.text
    card = slack.wait_card(name, "change freeze: Incident freeze until", "Deploy during freeze")

    held = bot.release_api(name, "/gate")
    assert held.status_code == 409
    assert held.json()["state"] == "approved"
    (reason,) = held.json()["reasons"]
    assert reason.startswith("change freeze: Incident freeze until ")
    assert "Mark deployed" not in card
    assert bot.release_api(name).json()["freeze_exceptions"] == []

    refused = slack.refusal("UENG", lambda: slack.click("UENG", name, ids.FREEZE_EXCEPTION))
    assert "Only the CTO/Engineering Manager" in refused

    view = slack.open_modal("UCTO", name, ids.FREEZE_EXCEPTION)
    assert view.callback_id == ids.FREEZE_VIEW, view.all_text()
    submitted = slack.driver.submit(
        "UCTO", view, {ids.REASON: "Security fix for CVE-2026-1234"}, enforce_required=False
    )
    assert submitted.status_code == 200 and not submitted.text, submitted.text

    card = slack.wait_card(name, "Deploy during freeze:", "Security fix for CVE-2026-1234")
    assert "Approved for production deployment" in card
    opened = bot.release_api(name, "/gate")
    assert opened.status_code == 200, opened.text
    assert opened.json()["approved"] is True
    release = bot.release_api(name)
    assert release.status_code == 200, release.text
    (granted,) = release.json()["freeze_exceptions"]
    assert granted["freeze"] == "incident" and granted["title"] == "Incident freeze"
    assert granted["granted_by"] == "UCTO"
    assert granted["reason"] == "Security fix for CVE-2026-1234"
    assert datetime.fromisoformat(granted["until"]) > datetime.now(UTC) + timedelta(hours=2)
    assert datetime.fromisoformat(granted["granted_at"]) <= datetime.now(UTC)

    listing = slack.command("UENG", "freezes")
    assert "Incident freeze" in listing and "incident" in listing
