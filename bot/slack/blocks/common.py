"""Small Block Kit builders shared by the card and the modals."""

from __future__ import annotations

from typing import Any

from bot.domain.model import ItemStatus, ReleaseState
from bot.domain.text import Phrase, truncate
from bot.slack.blocks.text import clip
from bot.slack.blocks.text import mrkdwn as render

Block = dict[str, Any]

STATUS_ICON = {
    ItemStatus.PASS: ":white_check_mark:",
    ItemStatus.FAIL: ":x:",
    ItemStatus.ERROR: ":warning:",
    ItemStatus.PENDING: ":white_circle:",
}

STATE_LABEL = {
    ReleaseState.OPEN: ":large_blue_circle: Open for sign-off",
    ReleaseState.BLOCKED: ":no_entry: Blocked",
    ReleaseState.APPROVED: ":white_check_mark: Approved",
    ReleaseState.SUSPENDED: ":warning: Suspended",
    ReleaseState.DEPLOYED: ":rocket: Deployed",
    ReleaseState.MONITORING: ":eyes: Monitoring",
    ReleaseState.DONE: ":checkered_flag: Done",
    ReleaseState.CANCELLED: ":x: Cancelled",
}


def plain(text: str, limit: int = 150) -> dict[str, Any]:
    return {"type": "plain_text", "text": truncate(text, limit), "emoji": True}


def mrkdwn(text: str | Phrase) -> dict[str, Any]:
    """A mrkdwn text object: TEXT as written (already mrkdwn), or a phrase rendered."""
    written = render(text) if isinstance(text, Phrase) else text
    return {"type": "mrkdwn", "text": clip(written, 3000)}


def section(text: str | Phrase, **extra: Any) -> Block:
    return {"type": "section", "text": mrkdwn(text), **extra}


def context(*texts: str) -> Block:
    return {"type": "context", "elements": [mrkdwn(t) for t in texts[:10]]}


def header(text: str) -> Block:
    return {"type": "header", "text": plain(text)}


def divider() -> Block:
    return {"type": "divider"}


def button(text: str, action_id: str, value: str, style: str | None = None) -> dict[str, Any]:
    element: dict[str, Any] = {
        "type": "button",
        "text": plain(text, 75),
        "action_id": action_id,
        "value": value,
    }
    if style:
        element["style"] = style
    return element


def option(text: str, value: str, description: str | None = None) -> dict[str, Any]:
    opt: dict[str, Any] = {"text": plain(text, 75), "value": value}
    if description:
        opt["description"] = plain(description, 75)
    return opt


def bar(percent: int, width: int = 10) -> str:
    filled = max(0, min(width, percent * width // 100))
    return "▰" * filled + "▱" * (width - filled)


def chunk_lines(lines: list[str], limit: int = 2900) -> list[str]:
    """Join lines into texts no longer than a section block allows."""
    texts: list[str] = []
    current = ""
    for line in lines:
        line = clip(line, limit)
        if current and len(current) + 1 + len(line) > limit:
            texts.append(current)
            current = line
        else:
            current = f"{current}\n{line}" if current else line
    if current:
        texts.append(current)
    return texts
