"""What Slack's client does with a modal's inputs before the app hears of them: the values
the page sends, in the plain form SlackDriver takes, and the required fields left empty
(Slack says so itself; the app is never asked)."""

from __future__ import annotations

from typing import Any

from bot.demo.snapshot import JSON
from bot.fake_slack.elements import STATEFUL
from bot.fake_slack.model import interactive_elements

REQUIRED = "Please complete this required field."


class Refused(Exception):
    """A request from the page that can't be done: answered 400 with this reason."""


def picked_values(blocks: list[JSON], raw: object) -> dict[str, Any]:
    """The page's values (block_id -> what was picked), for the view's stateful inputs only,
    in the plain form SlackDriver takes; an empty pick is sent as empty."""
    given = raw if isinstance(raw, dict) else {}
    out: dict[str, Any] = {}
    for block, element in interactive_elements(blocks):
        kind = str(element.get("type"))
        block_id = str(block.get("block_id"))
        if kind not in STATEFUL or block_id not in given:
            continue
        value = given[block_id]
        many = STATEFUL[kind][1]
        if many:
            value = [str(v) for v in value] if isinstance(value, list) else []
        elif value in (None, ""):
            value = "" if STATEFUL[kind][0] == "value" else None
        elif kind == "datetimepicker":
            try:
                value = int(value)
            except (TypeError, ValueError):
                raise Refused(f"{block_id}: not a time") from None
        else:
            value = str(value)
        if value is not None:
            out[block_id] = value
    return out


def missing_fields(blocks: list[JSON], values: dict[str, Any]) -> dict[str, str]:
    """Required inputs left empty (an initial value counts when nothing was sent)."""
    missing: dict[str, str] = {}
    for block in blocks:
        element = block.get("element")
        if block.get("type") != "input" or block.get("optional") or not isinstance(element, dict):
            continue
        kind = str(element.get("type"))
        if kind not in STATEFUL:
            continue
        block_id = str(block.get("block_id"))
        value = values.get(block_id, element.get(STATEFUL[kind][2]))
        if value in (None, "", []):
            missing[block_id] = REQUIRED
    return missing
