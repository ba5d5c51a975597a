"""What a person's input looks like to Slack: actions on elements and `state.values`.

Values are given the convenient way (an option's value, a user id, "2024-05-01") and
turned into the objects Slack sends, taken from the element itself.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

from bot.fake_slack.model import JSON, interactive_elements

# element type -> (state key, holds a list, initial_* field)
STATEFUL: Mapping[str, tuple[str, bool, str]] = MappingProxyType(
    {
        "plain_text_input": ("value", False, "initial_value"),
        "number_input": ("value", False, "initial_value"),
        "email_text_input": ("value", False, "initial_value"),
        "url_text_input": ("value", False, "initial_value"),
        "rich_text_input": ("rich_text_value", False, "initial_value"),
        "checkboxes": ("selected_options", True, "initial_options"),
        "radio_buttons": ("selected_option", False, "initial_option"),
        "static_select": ("selected_option", False, "initial_option"),
        "external_select": ("selected_option", False, "initial_option"),
        "multi_static_select": ("selected_options", True, "initial_options"),
        "multi_external_select": ("selected_options", True, "initial_options"),
        "users_select": ("selected_user", False, "initial_user"),
        "multi_users_select": ("selected_users", True, "initial_users"),
        "conversations_select": ("selected_conversation", False, "initial_conversation"),
        "multi_conversations_select": ("selected_conversations", True, "initial_conversations"),
        "channels_select": ("selected_channel", False, "initial_channel"),
        "multi_channels_select": ("selected_channels", True, "initial_channels"),
        "datepicker": ("selected_date", False, "initial_date"),
        "timepicker": ("selected_time", False, "initial_time"),
        "datetimepicker": ("selected_date_time", False, "initial_date_time"),
    }
)
OPTION_KINDS = frozenset(
    {"checkboxes", "radio_buttons", "static_select", "multi_static_select", "overflow"}
)


def find_elements(blocks: list[JSON], action_id: str, value: Any = None) -> list[tuple[JSON, JSON]]:
    """(block, element) pairs with this action_id that can take `value`."""
    found = [(b, e) for b, e in interactive_elements(blocks) if e.get("action_id") == action_id]
    if value is None:
        return found
    return [(b, e) for b, e in found if _accepts(e, value)]


def describe_actions(blocks: list[JSON]) -> str:
    """The action_ids (and button values) present, for failure messages."""
    parts = []
    for _, e in interactive_elements(blocks):
        label = f"{e.get('action_id')} ({e.get('type')}"
        if e.get("type") == "button" and "value" in e:
            label += f", value={e['value']!r}"
        elif e.get("type") in OPTION_KINDS:
            label += f", options={[o.get('value') for o in options_of(e)]}"
        parts.append(label + ")")
    return ", ".join(parts) or "no interactive elements"


def element_action(block: JSON, element: JSON, value: Any = None) -> JSON:
    """The `actions[0]` entry of a block_actions payload for acting on `element`."""
    kind = element.get("type")
    action: JSON = {
        "type": kind,
        "action_id": element.get("action_id"),
        "block_id": block.get("block_id"),
        "action_ts": f"{time.time():.6f}",
    }
    if kind == "button":
        action["text"] = element.get("text")
        if "value" in element:
            action["value"] = element["value"]
        if "style" in element:
            action["style"] = element["style"]
    elif kind == "overflow":
        if value is None:
            raise ValueError(f"overflow {element.get('action_id')!r} needs value= an option value")
        action["selected_option"] = option_for(element, value)
    else:
        action.update(state_entry(element, value))
    return action


def view_state(blocks: list[JSON], values: dict[str, Any], enforce_required: bool = True) -> JSON:
    """`view.state` for a submission: every stateful element, from `values` or its initial value.

    `values` is keyed by block_id; each value is the plain thing a person picked.
    """
    stateful = [(b, e) for b, e in interactive_elements(blocks) if e.get("type") in STATEFUL]
    known = {b.get("block_id") for b, _ in stateful}
    unknown = set(values) - known
    if unknown:
        have = sorted(str(k) for k in known)
        raise ValueError(f"no input block {sorted(unknown)}; the view has {have}")
    state: dict[str, JSON] = {}
    for block, element in stateful:
        block_id = str(block.get("block_id"))
        entry = state_entry(element, values.get(block_id))
        empty = entry[STATEFUL[element["type"]][0]] in (None, [], "")
        if enforce_required and block.get("type") == "input" and not block.get("optional"):
            if empty:
                raise ValueError(f"input {block_id!r} is required; Slack would not submit it empty")
        state.setdefault(block_id, {})[str(element.get("action_id"))] = entry
    return {"values": state}


def state_entry(element: JSON, value: Any) -> JSON:
    """One `{"type": ..., "<selected_*>": ...}` entry; `None` means the initial value."""
    kind = str(element.get("type"))
    if kind not in STATEFUL:
        raise ValueError(f"{kind} elements hold no state")
    key, many, initial = STATEFUL[kind]
    if value is None:
        return {"type": kind, key: element.get(initial, [] if many else None)}
    if kind in OPTION_KINDS or kind in {"external_select", "multi_external_select"}:
        chosen = [option_for(element, v) for v in _listed(value)]
        return {"type": kind, key: chosen if many else chosen[0]}
    if many:
        return {"type": kind, key: _listed(value)}
    if kind == "datetimepicker":
        return {"type": kind, key: int(value)}
    if value == "" and key == "value":
        return {"type": kind, key: None}
    if kind == "rich_text_input" and isinstance(value, str):
        return {"type": kind, key: _rich_text(value)}
    return {"type": kind, key: value}


def options_of(element: JSON) -> list[JSON]:
    groups = element.get("option_groups") or []
    return list(element.get("options") or []) + [o for g in groups for o in g.get("options", [])]


def option_for(element: JSON, value: Any) -> JSON:
    """The element's own option object whose value is `value` (external: made up)."""
    if isinstance(value, dict):
        return value
    if str(element.get("type")).endswith("external_select"):
        return {"text": {"type": "plain_text", "text": str(value)}, "value": str(value)}
    for option in options_of(element):
        if option.get("value") == value:
            return option
    offered = [o.get("value") for o in options_of(element)]
    raise ValueError(f"{element.get('action_id')!r} has no option {value!r}; it offers {offered}")


def _accepts(element: JSON, value: Any) -> bool:
    kind = element.get("type")
    if kind == "button":
        return bool(element.get("value") == value)
    if kind in OPTION_KINDS:
        offered = {o.get("value") for o in options_of(element)}
        return all(v in offered for v in _listed(value))
    return True


def _listed(value: Any) -> list[Any]:
    return list(value) if isinstance(value, list | tuple | set) else [value]


def _rich_text(text: str) -> JSON:
    section = {"type": "rich_text_section", "elements": [{"type": "text", "text": text}]}
    return {"type": "rich_text", "elements": [section]}
