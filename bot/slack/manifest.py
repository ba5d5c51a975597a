"""The Slack app manifest: paste it at api.slack.com/apps (Create New App, From a manifest).

Bot scopes are kept to what the code calls (tests/unit/test_manifest.py greps the Web API
methods the bot uses against them); each says why it is asked for, as the README does.
"""

from __future__ import annotations

from typing import Any

from bot.slack import ids

NAME = "Readiness"
EVENTS_PATH = "/slack/events"
PLACEHOLDER = "https://YOUR-HOST"  # without --url: to be replaced before pasting

# scope -> why the bot asks for it
SCOPES: dict[str, str] = {
    "commands": "the `/readiness` slash command",
    "chat:write": "post and update the release card, its thread messages and private replies",
    "channels:history": (
        "after a crash between posting and recording a message, find it (by its metadata) "
        "in a public release channel instead of posting it twice"
    ),
    "groups:history": "the same, in a private release channel",
    "usergroups:read": "resolve a role's user groups when someone signs",
    "app_mentions:read": "`@Readiness status [NAME]` answers in the thread",
    "files:write": "`/readiness export` uploads the filled-in sign-off document to the thread",
    "users:read": "signers' names in the exported document",
}

# bot event -> why it is subscribed (neither needs a scope beyond those above)
BOT_EVENTS: dict[str, str] = {
    "app_mention": "answer `@Readiness status [NAME]`",
    "app_home_opened": "publish the Home tab: your sign-offs waiting, the open releases",
}

USAGE = (
    "help | new NAME [ref=SHA] [window=START/END] | status [NAME] | list [STATE] | "
    "check [NAME] [SECTION] | deployed [NAME] | export [NAME] | cancel NAME | freezes | "
    "waive [NAME] ITEM_ID for=2d REASON"
)


class ManifestError(ValueError):
    """The arguments can't make a manifest Slack accepts."""


def request_url(url: str) -> str:
    """Where Slack sends commands, interactions and events: `URL/slack/events`."""
    base = url.strip().rstrip("/")
    if not base.startswith("https://") or len(base) <= len("https://"):
        raise ManifestError(f"--url: Slack sends requests only to https:// URLs, not {url!r}")
    if base.endswith(EVENTS_PATH):
        return base
    return base + EVENTS_PATH


def manifest(url: str | None, socket_mode: bool) -> dict[str, Any]:
    """The app's manifest. Over HTTP every request URL is `url` + /slack/events (without
    `url`, a placeholder to replace); in Socket Mode there are none: Slack delivers over
    the app's WebSocket."""
    if socket_mode and url:
        raise ManifestError("--url and --socket-mode: Socket Mode has no request URLs")
    endpoint = None if socket_mode else request_url(url or PLACEHOLDER)
    at: dict[str, Any] = {} if endpoint is None else {"url": endpoint}
    command = {
        "command": ids.COMMAND,
        **at,
        "description": "Production-readiness sign-off: releases, checks, signatures",
        "usage_hint": USAGE,
        "should_escape": False,
    }
    at = {} if endpoint is None else {"request_url": endpoint}
    return {
        "_metadata": {"major_version": 1, "minor_version": 1},
        "display_information": {
            "name": NAME,
            "description": "Production-readiness sign-off: automated checks, role-based "
            "signatures, deployment authorization.",
            "background_color": "#1f3b57",
        },
        "features": {
            "app_home": {
                "home_tab_enabled": True,
                "messages_tab_enabled": False,
                "messages_tab_read_only_enabled": False,
            },
            "bot_user": {"display_name": NAME, "always_online": True},
            "slash_commands": [command],
        },
        "oauth_config": {"scopes": {"bot": list(SCOPES)}},
        "settings": {
            "event_subscriptions": {**at, "bot_events": list(BOT_EVENTS)},
            "interactivity": {"is_enabled": True, **at},
            "org_deploy_enabled": False,
            "socket_mode_enabled": socket_mode,
            "token_rotation_enabled": False,
        },
    }
