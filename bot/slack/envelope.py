"""The shape of what Slack sends, checked before Bolt reads a request.

Bolt and the listeners index Slack's payloads as Slack documents them (`body["view"]
["callback_id"]`, `actions[0]["action_id"]`, `event["type"]`, …). A correctly signed body
of another shape (only a bug or a leaked signing secret can produce one) would make them
raise and the app answer 500. `problem()` names the first field that isn't as Slack sends
it, and the request is refused with a 400 before Bolt sees it. Pure: no I/O.
"""

from __future__ import annotations

from typing import Any

# The payload types this app has listeners for, plus those Bolt answers itself. A type not
# listed is answered 404 (as Bolt answers a request no listener takes) without being read:
# add it here with its shape when a listener for it is registered.
SERVED = frozenset(
    {
        "block_actions",
        "view_submission",
        "view_closed",
        "event_callback",
        "url_verification",
        "app_rate_limited",
    }
)

# The surface /metrics counts a request of each interaction type under.
SURFACES = {
    "block_actions": "action",
    "block_suggestion": "action",
    "view_submission": "view",
    "view_closed": "view",
    "shortcut": "shortcut",
    "message_action": "shortcut",
}

# Bolt reads these as an object or an id, at the top level and inside events and messages.
OBJECT_OR_ID = ("user", "team", "enterprise", "channel")
OBJECTS = ("container", "message", "previous_message", "item", "assistant_thread", "state")
NESTED = ("event", "message", "previous_message", "item", "assistant_thread")


class Unserved(Exception):
    """A payload type no listener here handles."""


def problem(body: dict[str, Any]) -> str | None:
    """The first field of BODY that is not shaped as Slack sends it, or None.

    Raises Unserved for a payload type this app doesn't handle."""
    kind = body.get("type")
    if kind is None:  # a slash command or ssl_check: a flat form, every value a string
        return None if all(isinstance(v, str) for v in body.values()) else "type"
    if not isinstance(kind, str):
        return "type"
    found = _objects(body, "", 0) or _authorizations(body)
    if found:
        return found
    if kind not in SERVED:
        raise Unserved(kind)
    if kind == "event_callback":
        return _event(body)
    if kind in ("block_actions", "view_submission", "view_closed"):
        return _interaction(body, kind)
    return None


def _objects(node: dict[str, Any], where: str, depth: int) -> str | None:
    for key in OBJECT_OR_ID:
        if not _optional(node.get(key), dict, str):
            return where + key
    for key in OBJECTS:
        if not _optional(node.get(key), dict):
            return where + key
    for key in ("event", "view"):
        if key in node and not isinstance(node[key], dict):
            return where + key
    if depth < 4:
        for key in NESTED:
            inner = node.get(key)
            if isinstance(inner, dict):
                found = _objects(inner, f"{where}{key}.", depth + 1) or _authorizations(inner)
                if found:
                    return found
    return None


def _authorizations(node: dict[str, Any]) -> str | None:
    found = node.get("authorizations")
    if found is None:
        return None
    if not isinstance(found, list) or not all(isinstance(a, dict) for a in found):
        return "authorizations"
    for item in found:
        inner = _objects(item, "authorizations.", 4)
        if inner:
            return inner
    return None


def _event(body: dict[str, Any]) -> str | None:
    event = body.get("event")
    if not isinstance(event, dict) or not isinstance(event.get("type"), str):
        return "event.type"
    if not _optional(body.get("event_id"), str):
        return "event_id"
    return None


def _interaction(body: dict[str, Any], kind: str) -> str | None:
    user = body.get("user")
    if not isinstance(user, dict) or not isinstance(user.get("id"), str):
        return "user.id"
    if not _optional(body.get("team"), dict):
        return "team"
    if not _optional(body.get("channel"), dict):
        return "channel"
    for key in ("trigger_id", "response_url"):
        if not _optional(body.get(key), str):
            return key
    if kind == "block_actions":
        actions = body.get("actions")
        if not isinstance(actions, list) or not actions:
            return "actions"
        for action in actions:
            found = _action(action)
            if found:
                return f"actions.{found}"
        if "state" in body:
            found = _state(body["state"])
            if found:
                return found
    view = body.get("view")
    if view is None and kind == "block_actions":
        return None
    return _view(view)


def _action(action: Any) -> str | None:
    if not isinstance(action, dict) or not isinstance(action.get("action_id"), str):
        return "action_id"
    for key in ("block_id", "value", "type"):
        if not _optional(action.get(key), str):
            return key
    if not _option(action.get("selected_option")):
        return "selected_option"
    return None


def _view(view: Any) -> str | None:
    if not isinstance(view, dict):
        return "view"
    for key in ("id", "type", "callback_id"):
        if not isinstance(view.get(key), str):
            return f"view.{key}"
    if not _optional(view.get("private_metadata"), str):
        return "view.private_metadata"
    blocks = view.get("blocks", [])
    if not isinstance(blocks, list):
        return "view.blocks"
    for block in blocks:
        if not _block(block):
            return "view.blocks"
    return _state(view.get("state", {}))


def _block(block: Any) -> bool:
    if not isinstance(block, dict) or not _optional(block.get("block_id"), str):
        return False
    element = block.get("element")
    if element is None:
        return True
    if not isinstance(element, dict):
        return False
    return all(
        _optional(element.get(key), list) and all(_option(o) for o in element.get(key) or [])
        for key in ("options", "initial_options")
    )


def _state(state: Any) -> str | None:
    """`{"values": {block_id: {action_id: {what the person entered}}}}`."""
    if not isinstance(state, dict):
        return "state"
    values = state.get("values", {})
    if not isinstance(values, dict):
        return "state.values"
    for block in values.values():
        if not isinstance(block, dict):
            return "state.values"
        for entered in block.values():
            if not isinstance(entered, dict) or not _entered(entered):
                return "state.values"
    return None


def _entered(field: dict[str, Any]) -> bool:
    """An input's value as Slack reports it, for the kinds of input the modals use."""
    stamp = field.get("selected_date_time")
    return (
        _optional(field.get("value"), str)
        and _optional(field.get("selected_options"), list)
        and all(_option(o) for o in field.get("selected_options") or [])
        and _option(field.get("selected_option"))
        and _optional(field.get("selected_users"), list)
        and all(isinstance(u, str) for u in field.get("selected_users") or [])
        and (stamp is None or (isinstance(stamp, int) and not isinstance(stamp, bool)))
    )


def _option(option: Any) -> bool:
    return option is None or (isinstance(option, dict) and _optional(option.get("value"), str))


def _optional(value: Any, *types: type) -> bool:
    return value is None or isinstance(value, types)
