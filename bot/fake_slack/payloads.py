"""The requests Slack sends to an app's request URL, built and signed as Slack does.

Slash commands and interactions are form-encoded (interactions as one `payload`
field of JSON); Events API deliveries are JSON. Pure functions: no I/O.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import parse_qs, urlencode

from bot.fake_slack.elements import view_state
from bot.fake_slack.model import JSON

FORM = "application/x-www-form-urlencoded"
JSON_TYPE = "application/json"
TEAM_ID = "T0001"
TEAM_DOMAIN = "readiness-test"
APP_ID = "A0001"
VERIFICATION_TOKEN = "verification-token"  # noqa: S105 - Slack's legacy field, unchecked

User = str | Mapping[str, Any]


def sign(signing_secret: str, body: bytes, timestamp: int | None = None) -> dict[str, str]:
    """The two headers Slack signs a request with (v0 HMAC-SHA256 of `v0:{ts}:{body}`)."""
    ts = int(time.time()) if timestamp is None else timestamp
    base = b"v0:" + str(ts).encode() + b":" + body
    digest = hmac.new(signing_secret.encode(), base, hashlib.sha256).hexdigest()
    return {"X-Slack-Request-Timestamp": str(ts), "X-Slack-Signature": f"v0={digest}"}


def user_object(user: User, team_id: str = TEAM_ID) -> JSON:
    """`{"id", "username", "name", "team_id"}` from a user id or a partial dict."""
    if isinstance(user, Mapping):
        base = dict(user)
        name = str(base.get("name") or base.get("username") or str(base["id"]).lower())
        return {"id": base["id"], "username": name, "name": name, "team_id": team_id, **base}
    return {"id": user, "username": user.lower(), "name": user.lower(), "team_id": team_id}


def decode(body: bytes) -> JSON:
    """The JSON inside an interaction body (`payload=...`) or an event body."""
    text = body.decode()
    if text.startswith("{"):
        return dict(json.loads(text))
    fields = parse_qs(text, keep_blank_values=True)
    if "payload" in fields:
        return dict(json.loads(fields["payload"][0]))
    return {k: v[0] for k, v in fields.items()}


def interactive(payload: Mapping[str, Any]) -> bytes:
    return urlencode({"payload": json.dumps(payload)}).encode()


def slash_command(
    user_id: str,
    text: str,
    *,
    user_name: str | None = None,
    channel_id: str = "CRELEASE",
    channel_name: str = "release",
    command: str = "/readiness",
    response_url: str = "",
    trigger_id: str = "",
    team_id: str = TEAM_ID,
    team_domain: str = TEAM_DOMAIN,
    api_app_id: str = APP_ID,
    token: str = VERIFICATION_TOKEN,
) -> bytes:
    fields = {
        "token": token,
        "team_id": team_id,
        "team_domain": team_domain,
        "channel_id": channel_id,
        "channel_name": channel_name,
        "user_id": user_id,
        "user_name": user_name or user_id.lower(),
        "command": command,
        "text": text,
        "api_app_id": api_app_id,
        "is_enterprise_install": "false",
        "response_url": response_url,
        "trigger_id": trigger_id,
    }
    return urlencode(fields).encode()


def _envelope(kind: str, user: User, team_id: str, team_domain: str, api_app_id: str,
              token: str, trigger_id: str) -> JSON:  # fmt: skip
    return {
        "type": kind,
        "user": user_object(user, team_id),
        "api_app_id": api_app_id,
        "token": token,
        "trigger_id": trigger_id,
        "team": {"id": team_id, "domain": team_domain},
        "enterprise": None,
        "is_enterprise_install": False,
    }


def block_actions(
    user: User,
    channel: str | Mapping[str, Any],
    message: Mapping[str, Any],
    action: Mapping[str, Any],
    *,
    is_ephemeral: bool = False,
    state_values: Mapping[str, Any] | None = None,
    trigger_id: str = "",
    response_url: str = "",
    team_id: str = TEAM_ID,
    team_domain: str = TEAM_DOMAIN,
    api_app_id: str = APP_ID,
    token: str = VERIFICATION_TOKEN,
) -> bytes:
    """A click on a message (ephemeral ones carry no `message`, as in Slack)."""
    chan = {"id": channel, "name": channel.lower()} if isinstance(channel, str) else dict(channel)
    payload = _envelope("block_actions", user, team_id, team_domain, api_app_id, token, trigger_id)
    payload["container"] = {
        "type": "message",
        "message_ts": message["ts"],
        "channel_id": chan["id"],
        "is_ephemeral": is_ephemeral,
    }
    payload["channel"] = chan
    if not is_ephemeral:
        payload["message"] = dict(message)
    payload["state"] = {"values": dict(state_values or {})}
    payload["response_url"] = response_url
    payload["actions"] = [dict(action)]
    return interactive(payload)


def view_block_actions(
    user: User,
    view: Mapping[str, Any],
    action: Mapping[str, Any],
    *,
    trigger_id: str = "",
    team_id: str = TEAM_ID,
    team_domain: str = TEAM_DOMAIN,
    api_app_id: str = APP_ID,
    token: str = VERIFICATION_TOKEN,
) -> bytes:
    """A click inside a modal or home tab: container is the view; no channel, no response_url."""
    payload = _envelope("block_actions", user, team_id, team_domain, api_app_id, token, trigger_id)
    payload["container"] = {"type": "view", "view_id": view["id"]}
    payload["view"] = dict(view)
    payload["state"] = view.get("state") or {"values": {}}
    payload["actions"] = [dict(action)]
    return interactive(payload)


def view_submission(
    user: User,
    view: Mapping[str, Any],
    values: Mapping[str, Any] | None = None,
    *,
    enforce_required: bool = True,
    trigger_id: str = "",
    response_urls: Sequence[JSON] = (),
    team_id: str = TEAM_ID,
    team_domain: str = TEAM_DOMAIN,
    api_app_id: str = APP_ID,
    token: str = VERIFICATION_TOKEN,
) -> bytes:
    """A modal submitted with `values` keyed by block_id, e.g. `{"comment": "ok"}`."""
    payload = _envelope(
        "view_submission", user, team_id, team_domain, api_app_id, token, trigger_id
    )
    state = view_state(list(view.get("blocks", [])), dict(values or {}), enforce_required)
    payload["view"] = submitted_view(view, state, team_id, api_app_id)
    payload["response_urls"] = list(response_urls)
    return interactive(payload)


def submitted_view(view: Mapping[str, Any], state: JSON, team_id: str, app_id: str) -> JSON:
    """The view as Slack includes it in a payload: its fields, with `state` filled in."""
    out: JSON = {
        "id": view["id"],
        "team_id": team_id,
        "type": view.get("type", "modal"),
        "blocks": view.get("blocks", []),
        "private_metadata": view.get("private_metadata", ""),
        "callback_id": view.get("callback_id", ""),
        "state": state,
        "hash": view.get("hash", ""),
        "title": view.get("title"),
        "clear_on_close": view.get("clear_on_close", False),
        "notify_on_close": view.get("notify_on_close", False),
        "close": view.get("close"),
        "submit": view.get("submit"),
        "previous_view_id": view.get("previous_view_id"),
        "root_view_id": view.get("root_view_id", view["id"]),
        "app_id": view.get("app_id", app_id),
        "external_id": view.get("external_id", ""),
        "app_installed_team_id": view.get("app_installed_team_id", team_id),
        "bot_id": view.get("bot_id"),
    }
    return out


def view_closed(
    user: User,
    view: Mapping[str, Any],
    *,
    is_cleared: bool = False,
    team_id: str = TEAM_ID,
    team_domain: str = TEAM_DOMAIN,
    api_app_id: str = APP_ID,
    token: str = VERIFICATION_TOKEN,
) -> bytes:
    payload = _envelope("view_closed", user, team_id, team_domain, api_app_id, token, "")
    del payload["trigger_id"]
    payload["view"] = dict(view)
    payload["is_cleared"] = is_cleared
    return interactive(payload)


def event_callback(
    event: Mapping[str, Any],
    event_id: str,
    team_id: str = TEAM_ID,
    *,
    api_app_id: str = APP_ID,
    token: str = VERIFICATION_TOKEN,
    event_time: int | None = None,
    bot_user_id: str = "UBOT",
) -> bytes:
    """An Events API delivery wrapping `event` (JSON body)."""
    now = int(time.time()) if event_time is None else event_time
    inner = {"event_ts": f"{now}.000100", **event}
    body = {
        "token": token,
        "team_id": team_id,
        "api_app_id": api_app_id,
        "event": inner,
        "type": "event_callback",
        "event_id": event_id,
        "event_time": now,
        "authorizations": [
            {
                "enterprise_id": None,
                "team_id": team_id,
                "user_id": bot_user_id,
                "is_bot": True,
                "is_enterprise_install": False,
            }
        ],
        "is_ext_shared_channel": False,
        "event_context": f"4-{event_id}",
    }
    return json.dumps(body).encode()


def url_verification(challenge: str, token: str = VERIFICATION_TOKEN) -> bytes:
    return json.dumps({"token": token, "challenge": challenge, "type": "url_verification"}).encode()
