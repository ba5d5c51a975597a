"""Replies to /readiness: help, list, status."""

from __future__ import annotations

from bot.domain.view import ReleaseView
from bot.slack.blocks.card import card
from bot.slack.blocks.common import STATE_LABEL, Block, context, section
from bot.slack.blocks.text import escape

HELP = """*Readiness* keeps this channel's production-readiness sign-off.
`/readiness new NAME [ref=SHA] [window=START/END]` open a release, e.g. `new LUMINES 1.0.0`
`/readiness status [NAME]` where a release stands
`/readiness list` the open releases
`/readiness check [NAME] [SECTION]` run the automated checks again
`/readiness deployed [NAME]` mark an approved release deployed (starts monitoring)
`/readiness export [NAME]` upload the filled-in sign-off document to the card's thread
`/readiness cancel NAME` cancel a release
`/readiness help` this text
Without NAME, the newest open release of this channel is meant."""


def help_blocks(note: str | None = None) -> list[Block]:
    blocks = [section(HELP)]
    if note:
        blocks.insert(0, section(note))
    return blocks


def list_blocks(views: list[ReleaseView]) -> list[Block]:
    if not views:
        return [section("No release is open. Open one with `/readiness new NAME`.")]
    lines = []
    for view in views:
        release = view.release
        signed = sum(1 for p in view.roles if p.complete)
        lines.append(
            f"• *{escape(release.name)}* · {STATE_LABEL[release.state]} · "
            f"{view.readiness.percent}% · {signed}/{len(view.roles)} roles signed · "
            f"<#{release.channel}>"
        )
    return [section("*Open releases*\n" + "\n".join(lines))]


def status_blocks(view: ReleaseView) -> list[Block]:
    blocks = card(view, with_actions=False)
    blocks.append(context(f"A private copy. The release card is in <#{view.release.channel}>."))
    return blocks
