"""Section 10 over HTTP: the final approver records window, team and rollback plan."""

from __future__ import annotations

import time
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from tests.scenario.conftest import Slack, approve_all_but_final
from tests.scenario.harness import text_of

HOUR = 3600


def row(slack: Slack, name: str) -> Mapping[str, Any] | None:
    found = slack.bot.sql(
        "SELECT * FROM releases WHERE name = :name AND state != 'cancelled'", name=name
    )
    return found[0]._mapping if found else None


def final_signatures(slack: Slack, name: str) -> int:
    return int(
        slack.bot.sql(
            "SELECT count(*) FROM signatures JOIN releases ON releases.id = release_id "
            "WHERE releases.name = :name AND role_id = 'cto' AND withdrawn_at IS NULL",
            name=name,
        )[0][0]
    )


def iso(stamp: int) -> str:
    return datetime.fromtimestamp(stamp, UTC).strftime("%Y-%m-%dT%H:%MZ")


def opened(slack: Slack, name: str, extra: str = "") -> str:
    reply = slack.command("UREL", f"new {name}{extra}")
    assert f"Opened *{name}*" in reply, reply
    slack.checks_done(name)
    slack.wait_card(name, "Readiness")
    return reply


def test_final_approval_records_section_10_and_offers_mark_deployed(
    slack: Slack, name: str
) -> None:
    opened(slack, name)
    approve_all_but_final(slack, name)
    view = slack.open_modal("UCTO", name, "sign:cto")
    team = next(b for b in view.blocks if b.get("block_id") == "deploy_team")["element"]
    assert team["type"] == "multi_users_select" and team["initial_users"] == ["UOPS"]
    start = int(time.time()) + HOUR
    plan = "1. helm rollback lumines\n2. <https://runbooks.example/rollback|runbook> & verify"
    values = {
        "attestations": [o["value"] for b in view.blocks if b.get("block_id") == "attestations"
                         for o in b["element"]["options"]],
        "window_start": start,
        "window_end": start + 2 * HOUR,
        "deploy_team": ["UOPS", "UCTO"],
        "rollback_plan": plan,
    }  # fmt: skip
    response = slack.driver.submit("UCTO", view, values)
    assert response.status_code == 200 and not response.text, response.text
    card = slack.wait_card(name, "*Deployment authorization:* :white_check_mark: *Approved for")
    assert "Approved for production deployment" in card
    assert ":white_check_mark: All required approvals received" in card
    assert ":white_check_mark: Final approval by CTO/Engineering Manager" in card
    assert f"*Deployment window:* <!date^{start}^" in card
    assert f"<!date^{start + 2 * HOUR}^" in card
    assert "*Deployment team:* <@UOPS>, <@UCTO>" in card
    assert "&lt;https://runbooks.example/rollback|runbook&gt; &amp; verify" in card
    message = slack.card(name)
    assert message.action_ids()[0] == "mark_deployed"
    assert "Mark deployed" in text_of(message.blocks)
    recorded = row(slack, name)
    assert recorded["state"] == "approved"
    assert recorded["rollback_plan"] == plan
    assert recorded["deploy_team"] == '["UOPS", "UCTO"]'
    thread = slack.wait_thread(name, ":clipboard: Deployment window")
    assert any(t.endswith("team: <@UOPS>, <@UCTO>.") for t in thread)


def test_invalid_window_keeps_the_modal_open_and_records_nothing(slack: Slack, name: str) -> None:
    opened(slack, name)
    approve_all_but_final(slack, name)
    start = int(time.time()) + 3 * HOUR
    response = slack.sign(
        "UCTO",
        name,
        "cto",
        plan={"window_start": start, "window_end": start - HOUR, "deploy_team": []},
    )
    assert response.status_code == 200
    body = response.json()
    assert body["response_action"] == "errors"
    assert body["errors"]["window_end"] == "The window must end after it starts."
    assert "at least one person" in body["errors"]["deploy_team"]
    assert set(body["errors"]) == {"window_end", "deploy_team"}
    assert final_signatures(slack, name) == 0
    recorded = row(slack, name)
    assert recorded["state"] == "open" and recorded["window_start"] is None
    assert recorded["deploy_team"] is None and recorded["rollback_plan"] is None
    past = int(time.time()) - 3 * HOUR
    response = slack.sign(
        "UCTO", name, "cto", plan={"window_start": past, "window_end": past + HOUR}
    )
    assert "in the past" in response.json()["errors"]["window_end"]
    assert final_signatures(slack, name) == 0


def test_planned_window_at_new_is_shown_and_prefilled(slack: Slack, name: str) -> None:
    start = (int(time.time()) // 60 + 24 * 60) * 60  # this time tomorrow, to the minute
    reply = opened(slack, name, f" ref=abc window={iso(start)}/{iso(start + 2 * HOUR)}")
    assert f"Planned deployment window: <!date^{start}^" in reply
    card = slack.wait_card(name, "_(planned)_")
    assert f"*Deployment window:* <!date^{start}^" in card
    approve_all_but_final(slack, name)
    view = slack.open_modal("UCTO", name, "sign:cto")
    elements = {b.get("block_id"): b.get("element", {}) for b in view.blocks}
    assert elements["window_start"]["initial_date_time"] == start
    assert elements["window_end"]["initial_date_time"] == start + 2 * HOUR
    slack.fake.close_view(view.id)


def test_bad_planned_window_is_explained_and_nothing_opened(slack: Slack, name: str) -> None:
    said = slack.command("UREL", f"new {name} window=tomorrow-morning")
    assert "window=START/END" in said and "2026-12-01T10:00Z/2026-12-01T12:00Z" in said
    assert row(slack, name) is None
    said = slack.command("UREL", f"new {name} window=2026-12-01T10:00/2026-12-01T12:00")
    assert "has no time zone" in said
    assert row(slack, name) is None
