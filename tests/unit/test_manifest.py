"""`readiness manifest`: valid YAML, and its bot scopes are exactly what the code uses.

The Web API methods the bot calls are found by grepping bot/ for slack_sdk client methods
(`client.chat_postMessage(`) and literal `api_call("…")`s; slack_sdk's own source maps each
to Slack's method names (files_upload_v2 -> files.getUploadURLExternal and
files.completeUploadExternal). SCOPE below says which bot scopes each needs.
"""

from __future__ import annotations

import inspect
import re
from functools import cache
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner
from slack_sdk.web.async_client import AsyncWebClient

from bot.cli import main
from bot.slack.manifest import BOT_EVENTS, SCOPES, manifest

ROOT = Path(__file__).resolve().parents[2]
NOT_THE_BOT = ("fake_slack", "demo")  # the stand-in for Slack and the demo target

# Slack method -> the bot scopes it needs (all of them; () when it needs none).
SCOPE: dict[str, tuple[str, ...]] = {
    "auth.test": (),
    "apps.connections.open": (),  # Socket Mode: the app-level token's connections:write
    "views.open": (),
    "views.push": (),
    "views.update": (),
    "views.publish": (),
    "chat.getPermalink": (),
    "chat.postMessage": ("chat:write",),
    "chat.postEphemeral": ("chat:write",),
    "chat.update": ("chat:write",),
    "chat.delete": ("chat:write",),
    # the release channel may be public or private
    "conversations.history": ("channels:history", "groups:history"),
    "conversations.replies": ("channels:history", "groups:history"),
    "conversations.info": ("channels:read", "groups:read"),
    "conversations.open": ("im:write",),
    "usergroups.list": ("usergroups:read",),
    "usergroups.users.list": ("usergroups:read",),
    "users.info": ("users:read",),
    "users.lookupByEmail": ("users:read.email",),
    "reactions.add": ("reactions:write",),
    "files.getUploadURLExternal": ("files:write",),
    "files.completeUploadExternal": ("files:write",),
}
EVENT_SCOPE: dict[str, tuple[str, ...]] = {"app_mention": ("app_mentions:read",)}
COMMAND_SCOPE = "commands"  # any slash command


@cache
def client_methods() -> dict[str, frozenset[str]]:
    """slack_sdk's client method name -> the Slack Web API methods it calls."""
    sources = {
        name: inspect.getsource(member)
        for name, member in vars(AsyncWebClient).items()
        if inspect.iscoroutinefunction(member) and not name.startswith("_")
    }

    def resolve(name: str, seen: frozenset[str]) -> frozenset[str]:
        source = sources[name]
        found = set(re.findall(r"api_call\(\s*\"([\w.]+)\"", source))
        for inner in re.findall(r"self\.(\w+)\(", source):
            if inner in sources and inner not in seen:
                found |= resolve(inner, seen | {inner})
        return frozenset(found)

    return {name: resolve(name, frozenset({name})) for name in sources}


def methods_called(root: Path = ROOT / "bot") -> dict[str, set[str]]:
    """Slack method -> the files that call it."""
    known = client_methods()
    called: dict[str, set[str]] = {}
    for path in sorted(root.rglob("*.py")):
        if any(part in NOT_THE_BOT for part in path.relative_to(root).parts):
            continue
        text = path.read_text()
        where = str(path.relative_to(ROOT))
        names = {m for m in re.findall(r"\.([a-z]\w*)\(", text) if m in known}
        slack = {method for name in names for method in known[name]}
        slack |= set(re.findall(r"api_call\(\s*[\"']([\w.]+)[\"']", text))
        for method in slack:
            called.setdefault(method, set()).add(where)
    return called


def events_handled(root: Path = ROOT / "bot" / "slack") -> set[str]:
    return {
        event
        for path in root.rglob("*.py")
        for event in re.findall(r"@(?:app\.event|on_event)\(\s*[\"'](\w+)[\"']", path.read_text())
    }


def keys(node: Any) -> set[str]:
    if isinstance(node, dict):
        return set(node) | {k for value in node.values() for k in keys(value)}
    if isinstance(node, list):
        return {k for value in node for k in keys(value)}
    return set()


def printed(*args: str) -> dict[str, Any]:
    result = CliRunner().invoke(main, ["manifest", *args])
    assert result.exit_code == 0, result.output
    document = yaml.safe_load(result.stdout)
    assert isinstance(document, dict)
    return document


def test_the_mapping_knows_slack_sdk() -> None:
    known = client_methods()
    assert known["chat_postMessage"] == {"chat.postMessage"}
    assert known["files_upload_v2"] == {
        "files.getUploadURLExternal",
        "files.completeUploadExternal",
    }
    assert {"auth.test", "chat.postMessage", "usergroups.users.list"} <= set(methods_called())


def test_every_scope_the_code_needs_is_asked_for_and_none_more() -> None:
    document = printed("--url", "https://readiness.example.com")
    asked = document["oauth_config"]["scopes"]["bot"]
    called = methods_called()
    unknown = sorted(set(called) - set(SCOPE))
    assert not unknown, f"add these methods to SCOPE: {unknown} (called in {called})"
    needed = {scope: f"{method} in {sorted(called[method])}" for method in called
              for scope in SCOPE[method]}  # fmt: skip
    events = document["settings"]["event_subscriptions"]["bot_events"]
    for event in events:
        needed.update({scope: f"the {event} event" for scope in EVENT_SCOPE.get(event, ())})
    if document["features"]["slash_commands"]:
        needed[COMMAND_SCOPE] = "the slash command"
    missing = {scope: why for scope, why in needed.items() if scope not in asked}
    assert not missing, f"the manifest lacks scopes the code needs: {missing}"
    unused = sorted(set(asked) - set(needed))
    assert not unused, f"the manifest asks for scopes nothing uses: {unused}"
    assert len(asked) == len(set(asked))
    assert set(events) == events_handled() == set(BOT_EVENTS)
    assert set(SCOPES) == set(asked)  # the README's table says why for each


def test_over_http_every_request_url_is_the_bot() -> None:
    document = printed("--url", "https://readiness.example.com/")
    url = "https://readiness.example.com/slack/events"
    (command,) = document["features"]["slash_commands"]
    assert command["command"] == "/readiness" and command["url"] == url
    assert {"description", "usage_hint", "should_escape"} <= set(command)
    settings = document["settings"]
    assert settings["event_subscriptions"]["request_url"] == url
    assert settings["interactivity"] == {"is_enabled": True, "request_url": url}
    assert settings["socket_mode_enabled"] is False
    assert settings["org_deploy_enabled"] is False
    assert settings["token_rotation_enabled"] is False
    assert document["features"]["app_home"]["home_tab_enabled"] is True
    assert document["features"]["bot_user"]["display_name"] == "Readiness"
    assert document["display_information"]["name"] == "Readiness"


def test_socket_mode_has_no_request_urls() -> None:
    document = printed("--socket-mode")
    assert document["settings"]["socket_mode_enabled"] is True
    assert not keys(document) & {"url", "request_url"}
    assert document["settings"]["interactivity"]["is_enabled"] is True


def test_without_url_a_placeholder_and_a_hint() -> None:
    result = CliRunner().invoke(main, ["manifest"])
    assert result.exit_code == 0
    assert "https://YOUR-HOST/slack/events" in result.stdout
    assert "--url" in result.stderr


@pytest.mark.parametrize(
    "args",
    [["--url", "http://readiness.example.com"], ["--url", "https://x.io", "--socket-mode"]],
)
def test_refused_arguments_exit_2(args: list[str]) -> None:
    result = CliRunner().invoke(main, ["manifest", *args])
    assert result.exit_code == 2 and result.stderr


def test_a_url_given_with_its_path_is_not_doubled() -> None:
    document = manifest("https://h.example/slack/events", socket_mode=False)
    assert document["settings"]["interactivity"]["request_url"] == "https://h.example/slack/events"
