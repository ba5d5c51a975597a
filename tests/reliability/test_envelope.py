"""bot/slack/envelope.py: what Slack sends passes; a field Bolt or a listener would index,
shaped otherwise, is named (and the request refused with 400 before Bolt reads it)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from bot.fake_slack import payloads
from bot.slack.envelope import Unserved, problem

MESSAGE = {"ts": "1.000100", "text": "card", "blocks": []}
ACTION = {
    "action_id": "sign:engineering_lead",
    "block_id": "b",
    "type": "button",
    "value": '{"r":1,"role":"engineering_lead"}',
}
VIEW = {
    "id": "V1",
    "type": "modal",
    "callback_id": "sign_view",
    "private_metadata": '{"r":1,"role":"engineering_lead"}',
    "blocks": [
        {
            "type": "input",
            "block_id": "attestations",
            "element": {
                "type": "checkboxes",
                "action_id": "value",
                "options": [{"text": {"type": "plain_text", "text": "x"}, "value": "0"}],
            },
        },
        {
            "type": "input",
            "block_id": "comment",
            "element": {"type": "plain_text_input", "action_id": "value"},
        },
        {
            "type": "input",
            "block_id": "window_start",
            "element": {"type": "datetimepicker", "action_id": "value"},
        },
        {
            "type": "input",
            "block_id": "deploy_team",
            "element": {"type": "multi_users_select", "action_id": "value"},
        },
    ],
}
VALUES = {
    "attestations": ["0"],
    "comment": "ok",
    "window_start": 1_700_000_000,
    "deploy_team": ["UENG"],
}


def body(raw: bytes) -> dict[str, Any]:
    return payloads.decode(raw)


def slack_sends() -> dict[str, dict[str, Any]]:
    return {
        "slash command": body(payloads.slash_command("UREL", "status <!channel>")),
        "button": body(payloads.block_actions("UENG", "CRELEASE", MESSAGE, ACTION)),
        "button in a modal": body(payloads.view_block_actions("UENG", VIEW, ACTION)),
        "view_submission": body(payloads.view_submission("UENG", VIEW, VALUES)),
        "view_closed": body(payloads.view_closed("UENG", VIEW)),
        "event": body(
            payloads.event_callback(
                {
                    "type": "app_mention",
                    "user": "UENG",
                    "text": "<@UBOT> status",
                    "channel": "CRELEASE",
                    "ts": "1.2",
                },
                "Ev1",
            )
        ),
        "message_changed event": body(
            payloads.event_callback(
                {
                    "type": "message",
                    "subtype": "message_changed",
                    "channel": "C1",
                    "message": {"user": "U1", "text": "x"},
                    "previous_message": {"user": "U1"},
                },
                "Ev2",
            )
        ),
        "url_verification": body(payloads.url_verification("challenge")),
        "ssl_check": {"ssl_check": "1", "token": "x"},
    }


@pytest.mark.parametrize("kind", list(slack_sends()))
def test_what_slack_sends_passes(kind: str) -> None:
    assert problem(slack_sends()[kind]) is None


def broken(kind: str, edit: str, value: Any) -> dict[str, Any]:
    """A copy of what Slack sends with the field at dotted path EDIT set to VALUE."""
    node = json.loads(json.dumps(slack_sends()[kind]))
    *path, last = edit.split(".")
    target = node
    for step in path:
        target = target[int(step)] if isinstance(target, list) else target[step]
    key: Any = int(last) if isinstance(target, list) else last
    if value is KeyError:
        del target[key]
    else:
        target[key] = value
    return node


@pytest.mark.parametrize(
    ("kind", "edit", "value", "named"),
    [
        ("button", "type", 5, "type"),
        ("button", "user", [], "user"),
        ("button", "user.id", None, "user.id"),
        ("button", "actions", {}, "actions"),
        ("button", "actions", [], "actions"),
        ("button", "actions.0", "sign", "actions.action_id"),
        ("button", "actions.0.action_id", KeyError, "actions.action_id"),
        ("button", "actions.0.value", {"r": 1}, "actions.value"),
        ("button", "actions.0.selected_option", "x", "actions.selected_option"),
        ("button", "channel", ["C1"], "channel"),
        ("button", "container", "C1", "container"),
        ("button", "trigger_id", 1.5, "trigger_id"),
        ("button", "response_url", [], "response_url"),
        ("button", "view", None, "view"),
        ("view_submission", "view", "V1", "view"),
        ("view_submission", "view.callback_id", KeyError, "view.callback_id"),
        ("view_submission", "view.private_metadata", {"r": 1}, "view.private_metadata"),
        ("view_submission", "view.blocks", {}, "view.blocks"),
        ("view_submission", "view.blocks.0", 7, "view.blocks"),
        ("view_submission", "view.blocks.0.element.options", "0", "view.blocks"),
        ("view_submission", "view.state", [], "state"),
        ("view_submission", "view.state.values", [], "state.values"),
        ("view_submission", "view.state.values.comment.value.value", 5, "state.values"),
        (
            "view_submission",
            "view.state.values.attestations.value.selected_options",
            1,
            "state.values",
        ),
        (
            "view_submission",
            "view.state.values.window_start.value.selected_date_time",
            "soon",
            "state.values",
        ),
        (
            "view_submission",
            "view.state.values.window_start.value.selected_date_time",
            True,
            "state.values",
        ),
        (
            "view_submission",
            "view.state.values.deploy_team.value.selected_users",
            [1],
            "state.values",
        ),
        ("event", "event", [], "event"),
        ("event", "event.type", None, "event.type"),
        ("event", "event_id", 12, "event_id"),
        ("event", "authorizations", "abc", "authorizations"),
        ("event", "event.channel", 5, "event.channel"),
        ("message_changed event", "event.message", "x", "event.message"),
        ("message_changed event", "event.message.user", 1, "event.message.user"),
        ("slash command", "text", ["status"], "type"),
    ],
)
def test_a_field_shaped_otherwise_is_named(kind: str, edit: str, value: Any, named: str) -> None:
    assert problem(broken(kind, edit, value)) == named


@pytest.mark.parametrize("kind", ["shortcut", "workflow_step_edit", "block_suggestion", "x"])
def test_a_type_no_listener_takes_is_unserved(kind: str) -> None:
    with pytest.raises(Unserved):
        problem({"type": kind, "callback_id": "c"})
