"""`/readiness freezes`: the change freezes covering now and each one's next occurrence."""

from __future__ import annotations

from bot.domain.freezes import FreezeWindow
from bot.services.freezes import FreezeList
from bot.slack.blocks.common import Block, section
from bot.slack.blocks.text import escape, when


def _line(window: FreezeWindow) -> str:
    name = f"*{escape(window.title)}* (`{escape(window.freeze_id)}`)"
    return f"• {name}: {when(window.start)} – {when(window.end)}"


def freezes_text(product: str, found: FreezeList) -> str:
    if found.current:
        return f"{product}: change freeze now: " + ", ".join(w.title for w in found.current)
    return f"{product}: no change freeze now"


def freezes_blocks(product: str, found: FreezeList) -> list[Block]:
    lines = [f"*Change freezes of {escape(product)}*"]
    if found.current:
        lines.append(":snowflake: *Now* (no release deploys without an exception):")
        lines += [_line(w) for w in found.current]
    else:
        lines.append("No change freeze covers now.")
    if found.upcoming:
        lines.append("*Next:*")
        lines += [_line(w) for w in found.upcoming]
    elif not found.current:
        lines.append("None is planned.")
    return [section("\n".join(lines))]
