"""The App Home tab: the sign-offs waiting for this person, then every open release."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from bot.services.home import Home, Signoff
from bot.slack import ids
from bot.slack.blocks.common import (
    Block,
    bar,
    button,
    chunk_lines,
    context,
    divider,
    header,
    section,
)
from bot.slack.blocks.messages import product_headings, release_line
from bot.slack.blocks.text import escape, when

MAX_WAITING = 20  # one block each, with its Sign button
MAX_LATER = 20
MAX_RELEASES = 20  # the newest open releases listed


def _waiting(signoff: Signoff) -> Block:
    release, role = signoff.view.release, signoff.role
    percent = signoff.view.readiness.percent
    text = (
        f"*{escape(release.name)}* needs your sign-off as *{escape(role.title)}*\n"
        f"Readiness {percent}%  {bar(percent)} · <#{release.channel}>"
    )
    sign = button(
        f"Sign as {role.title}",
        ids.SIGN_PREFIX + signoff.role_id,
        ids.Ref(r=release.id, role=signoff.role_id).encode(),
        style="primary",
    )
    return section(text, accessory=sign)


def _headed(signoffs: Sequence[Signoff], grouped: bool) -> list[str | None]:
    return product_headings([s.view for s in signoffs], grouped)


def _later(signoffs: tuple[Signoff, ...], grouped: bool) -> list[Block]:
    shown = signoffs[:MAX_LATER]
    lines: list[str] = []
    for s, heading in zip(shown, _headed(shown, grouped), strict=True):
        line = f"• *{escape(s.view.release.name)}* as *{escape(s.role.title)}*: "
        lines += [heading] if heading else []
        lines.append(line + escape(s.later or ""))
    if len(signoffs) > MAX_LATER:
        lines.append(f"…and {len(signoffs) - MAX_LATER} more.")
    texts = chunk_lines(["*Yours to sign later*", *lines])
    return [section(text) for text in texts]


def _releases(home: Home) -> list[Block]:
    """The newest open releases, and how many there are: as many as `/readiness list`
    counts (it pages through them all)."""
    if not home.releases:
        return [section("No release is open. Open one with `/readiness new NAME`.")]
    total = len(home.releases)
    lines = [f"*Open releases* · {total} in all"]
    shown = home.releases[:MAX_RELEASES]
    for view, heading in zip(shown, product_headings(shown, home.grouped), strict=True):
        lines += [heading, release_line(view)] if heading else [release_line(view)]
    if total > MAX_RELEASES:
        lines.append(f"…and {total - MAX_RELEASES} more: `/readiness list` shows them all")
    return [section(text) for text in chunk_lines(lines)]


def home_view(home: Home) -> dict[str, Any]:
    """views.publish's `view` for `home.user`."""
    blocks: list[Block] = [
        header("Production readiness"),
        context(f"Your sign-offs and the releases in play · updated {when(home.at)}"),
    ]
    if home.note:
        blocks.append(context(f":warning: {escape(home.note)}"))
    blocks.append(section("*Waiting for your sign-off*"))
    if home.waiting:
        waiting = home.waiting[:MAX_WAITING]  # with several products, under their titles
        for signoff, heading in zip(waiting, _headed(waiting, home.grouped), strict=True):
            blocks += [context(heading), _waiting(signoff)] if heading else [_waiting(signoff)]
        if len(home.waiting) > MAX_WAITING:
            more = len(home.waiting) - MAX_WAITING
            blocks.append(context(f"…and {more} more: each card has its Sign buttons."))
    else:
        blocks.append(section("Nothing is waiting for your sign-off right now."))
    if home.later:
        blocks += _later(home.later, home.grouped)
    blocks.append(divider())
    blocks += _releases(home)
    return {"type": "home", "blocks": blocks}
