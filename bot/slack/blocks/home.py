"""The App Home tab: the sign-offs waiting for this person, then every open release."""

from __future__ import annotations

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
from bot.slack.blocks.messages import release_line
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


def _headed(views: list[Any], grouped: bool, line: Any) -> list[str]:
    """LINE of each item, under its product's title when GROUPED (items come grouped)."""
    lines: list[str] = []
    heading = None
    for item in views:
        view = item.view if isinstance(item, Signoff) else item
        if grouped and view.release.product != heading:
            heading = view.release.product
            lines.append(f"*{escape(view.product)}*")
        lines.append(line(item))
    return lines


def _later(signoffs: tuple[Signoff, ...], grouped: bool) -> list[Block]:
    lines = _headed(
        list(signoffs[:MAX_LATER]),
        grouped,
        lambda s: (
            f"• *{escape(s.view.release.name)}* as *{escape(s.role.title)}*: "
            f"{escape(s.later or '')}"
        ),
    )
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
    lines += _headed(list(home.releases[:MAX_RELEASES]), home.grouped, release_line)
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
        heading = None  # with several products, each one's sign-offs under its title
        for signoff in home.waiting[:MAX_WAITING]:
            if home.grouped and signoff.view.release.product != heading:
                heading = signoff.view.release.product
                blocks.append(context(f"*{escape(signoff.view.product)}*"))
            blocks.append(_waiting(signoff))
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
