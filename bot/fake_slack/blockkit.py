"""Block Kit limits Slack enforces, so a layout Slack would refuse fails here too.

Only documented limits are checked (lengths, counts, required fields, unique ids);
each problem reads like Slack's own: "<what> [json-pointer:/blocks/0/text/text]".
"""

from __future__ import annotations

from typing import Any

from bot.fake_slack.model import JSON

BLOCK_TYPES = frozenset(
    {
        "actions", "context", "context_actions", "divider", "file", "header", "image",
        "input", "markdown", "rich_text", "section", "table", "video",
    }
)  # fmt: skip
MESSAGE_BLOCKS = 50
VIEW_BLOCKS = 100
SELECTS = frozenset({"static_select", "multi_static_select"})
MULTI_SELECTS = frozenset(
    {
        "multi_static_select", "multi_external_select", "multi_users_select",
        "multi_conversations_select", "multi_channels_select",
    }
)  # fmt: skip
TEXT_INPUT_MAX = 3000


def message_problems(blocks: Any) -> list[str]:
    return _blocks(blocks, "/blocks", MESSAGE_BLOCKS)


def view_problems(view: Any) -> list[str]:
    if not isinstance(view, dict):
        return ["must be an object [json-pointer:/view]"]
    kind = view.get("type")
    if kind not in {"modal", "home"}:
        return [f"unsupported view type {kind!r} [json-pointer:/view/type]"]
    out = _blocks(view.get("blocks", []), "/view/blocks", VIEW_BLOCKS)
    out += _max(view.get("callback_id"), 255, "/view/callback_id")
    out += _max(view.get("private_metadata"), 3000, "/view/private_metadata")
    out += _max(view.get("external_id"), 255, "/view/external_id")
    if kind == "modal":
        out += _text(view.get("title"), "/view/title", 24, plain=True)
        for key in ("submit", "close"):
            if view.get(key) is not None:
                out += _text(view[key], f"/view/{key}", 24, plain=True)
        has_input = any(
            b.get("type") == "input" for b in view.get("blocks", []) if isinstance(b, dict)
        )
        if has_input and view.get("submit") is None:
            out.append("submit is required when an input block is present [json-pointer:/view]")
    return out


def _blocks(blocks: Any, path: str, limit: int) -> list[str]:
    if not isinstance(blocks, list):
        return [f"must be an array [json-pointer:{path}]"]
    out: list[str] = []
    if len(blocks) > limit:
        out.append(f"no more than {limit} items allowed [json-pointer:{path}]")
    seen: set[str] = set()
    for i, block in enumerate(blocks):
        at = f"{path}/{i}"
        if not isinstance(block, dict) or block.get("type") not in BLOCK_TYPES:
            kind = block.get("type") if isinstance(block, dict) else None
            out.append(f"unsupported block type {kind!r} [json-pointer:{at}/type]")
            continue
        out += _unique_id(block, "block_id", at, seen)
        out += _block(block, at)
    return out


def _block(block: JSON, at: str) -> list[str]:
    out: list[str] = []
    match block["type"]:
        case "section":
            fields = block.get("fields")
            if block.get("text") is None and not fields:
                out.append(f"text or fields is required [json-pointer:{at}]")
            if block.get("text") is not None:
                out += _text(block["text"], f"{at}/text", 3000)
            if fields is not None:
                if not isinstance(fields, list) or len(fields) > 10:
                    out.append(f"no more than 10 items allowed [json-pointer:{at}/fields]")
                else:
                    for j, f in enumerate(fields):
                        out += _text(f, f"{at}/fields/{j}", 2000)
            if block.get("accessory") is not None:
                out += _elements([block["accessory"]], f"{at}/accessory", single=True)
        case "header":
            out += _text(block.get("text"), f"{at}/text", 150, plain=True)
        case "actions":
            elements = block.get("elements")
            if not isinstance(elements, list) or not 1 <= len(elements) <= 25:
                out.append(f"must have 1 to 25 elements [json-pointer:{at}/elements]")
            else:
                out += _elements(elements, f"{at}/elements")
        case "context":
            elements = block.get("elements")
            if not isinstance(elements, list) or not 1 <= len(elements) <= 10:
                out.append(f"must have 1 to 10 elements [json-pointer:{at}/elements]")
        case "input":
            out += _text(block.get("label"), f"{at}/label", 2000, plain=True)
            if block.get("hint") is not None:
                out += _text(block["hint"], f"{at}/hint", 2000, plain=True)
            if not isinstance(block.get("element"), dict):
                out.append(f"element is required [json-pointer:{at}/element]")
            else:
                out += _elements([block["element"]], f"{at}/element", single=True)
        case "image":
            if not block.get("alt_text"):
                out.append(f"alt_text is required [json-pointer:{at}/alt_text]")
            out += _max(block.get("alt_text"), 2000, f"{at}/alt_text")
    return out


def _elements(elements: list[Any], at: str, single: bool = False) -> list[str]:
    out: list[str] = []
    seen: set[str] = set()
    for j, element in enumerate(elements):
        here = at if single else f"{at}/{j}"
        if not isinstance(element, dict) or not element.get("type"):
            out.append(f"element type is required [json-pointer:{here}]")
            continue
        out += _unique_id(element, "action_id", here, seen)
        out += _element(element, here)
    return out


def _unique_id(item: JSON, key: str, at: str, seen: set[str]) -> list[str]:
    """ITEM's KEY (a block_id, an action_id), when given: at most 255 characters, and not
    one SEEN already among its siblings (it is added to SEEN)."""
    value = item.get(key)
    if value is None:
        return []
    out = _max(value, 255, f"{at}/{key}")
    if value in seen:
        out.append(f"duplicate {key} {value!r} [json-pointer:{at}/{key}]")
    seen.add(value)
    return out


def _element(element: JSON, at: str) -> list[str]:
    out: list[str] = []
    kind = element["type"]
    if kind == "button":
        out += _text(element.get("text"), f"{at}/text", 75, plain=True)
        out += _max(element.get("value"), 2000, f"{at}/value")
        out += _max(element.get("url"), 3000, f"{at}/url")
        if element.get("style") not in {None, "primary", "danger"}:
            out.append(f"style must be primary or danger [json-pointer:{at}/style]")
    elif kind == "overflow":
        out += _options(element.get("options"), f"{at}/options", 1, 5)
    elif kind in {"checkboxes", "radio_buttons"}:
        out += _options(element.get("options"), f"{at}/options", 1, 10)
    elif kind in SELECTS and element.get("option_groups") is None:
        out += _options(element.get("options"), f"{at}/options", 1, 100)
    if kind in MULTI_SELECTS and element.get("max_selected_items") is not None:
        out += _int(element["max_selected_items"], f"{at}/max_selected_items", 1, None)
    if kind == "multi_users_select" and element.get("initial_users") is not None:
        users = element["initial_users"]
        if not isinstance(users, list) or not all(isinstance(u, str) and u for u in users):
            out.append(f"must be an array of user IDs [json-pointer:{at}/initial_users]")
        elif len(users) > (element.get("max_selected_items") or len(users)):
            out.append(f"more than max_selected_items [json-pointer:{at}/initial_users]")
    if kind == "users_select" and element.get("initial_user") is not None:
        if not isinstance(element["initial_user"], str):
            out.append(f"must be a user ID [json-pointer:{at}/initial_user]")
    if kind == "datetimepicker" and element.get("initial_date_time") is not None:
        # A UNIX timestamp in seconds, "in the format of 10 digits".
        out += _int(
            element["initial_date_time"], f"{at}/initial_date_time", 1_000_000_000, 9_999_999_999
        )
    if kind == "plain_text_input":
        out += _text_input(element, at)
    if element.get("placeholder") is not None:
        out += _text(element["placeholder"], f"{at}/placeholder", 150, plain=True)
    if element.get("confirm") is not None:
        out += _text((element["confirm"] or {}).get("title"), f"{at}/confirm/title", 100)
    return out


def _text_input(element: JSON, at: str) -> list[str]:
    out: list[str] = []
    low, high = element.get("min_length"), element.get("max_length")
    if low is not None:
        out += _int(low, f"{at}/min_length", 0, TEXT_INPUT_MAX)
    if high is not None:
        out += _int(high, f"{at}/max_length", 1, TEXT_INPUT_MAX)
    if isinstance(low, int) and isinstance(high, int) and low > high:
        out.append(f"min_length must not exceed max_length [json-pointer:{at}/min_length]")
    initial = element.get("initial_value")
    if initial is not None and not isinstance(initial, str):
        out.append(f"must be a string [json-pointer:{at}/initial_value]")
    return out


def _int(value: Any, at: str, low: int, high: int | None) -> list[str]:
    if isinstance(value, bool) or not isinstance(value, int):
        return [f"must be an integer [json-pointer:{at}]"]
    if value < low or (high is not None and value > high):
        bound = f"between {low} and {high}" if high is not None else f"at least {low}"
        return [f"must be {bound} [json-pointer:{at}]"]
    return []


def _options(options: Any, at: str, low: int, high: int) -> list[str]:
    if not isinstance(options, list) or not low <= len(options) <= high:
        return [f"must have {low} to {high} options [json-pointer:{at}]"]
    out: list[str] = []
    for k, option in enumerate(options):
        here = f"{at}/{k}"
        if not isinstance(option, dict):
            out.append(f"option must be an object [json-pointer:{here}]")
            continue
        out += _text(option.get("text"), f"{here}/text", 75)
        out += _max(option.get("value"), 150, f"{here}/value")
    return out


def _text(obj: Any, at: str, limit: int, plain: bool = False) -> list[str]:
    if not isinstance(obj, dict) or not isinstance(obj.get("text"), str):
        return [f"text object is required [json-pointer:{at}]"]
    allowed = {"plain_text"} if plain else {"plain_text", "mrkdwn"}
    if obj.get("type") not in allowed:
        return [f"type must be {' or '.join(sorted(allowed))} [json-pointer:{at}/type]"]
    if not obj["text"]:
        return [f"must be more than 0 characters [json-pointer:{at}/text]"]
    return _max(obj["text"], limit, f"{at}/text")


def _max(value: Any, limit: int, at: str) -> list[str]:
    if isinstance(value, str) and len(value) > limit:
        return [f"must be less than {limit + 1} characters [json-pointer:{at}]"]
    return []
