"""The waiver request in the thread, redrawn in place once answered or withdrawn."""

from __future__ import annotations

import logging

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.domain.waiver_rules import request_notice
from bot.services.container import Services
from bot.services.waivers import Answered
from bot.slack.blocks.text import mrkdwn
from bot.slack.blocks.waivers import request_blocks

log = logging.getLogger(__name__)


async def update_request(
    services: Services,
    client: AsyncWebClient,
    channel: str,
    ts: str,
    answered: Answered,
) -> None:
    """Show the request message at CHANNEL/TS as ANSWERED. Best effort: the answer is
    recorded, and its notice is in the thread."""
    if not channel or not ts:
        return
    app = services.deps.config(answered.view.release)
    notice = request_notice(app, answered.view.release.id, answered.waiver)
    try:
        await client.chat_update(
            channel=channel,
            ts=ts,
            text=f":large_blue_diamond: {mrkdwn(notice.phrase())}",
            blocks=request_blocks(notice, answered.waiver),
        )
    except SlackApiError as exc:
        log.warning("could not redraw the waiver request %s: %s", ts, exc.response.get("error"))
