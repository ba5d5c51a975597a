"""The waiver request in the thread, redrawn in place once answered or withdrawn."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.domain.waiver_rules import request_notice
from bot.services.container import Services
from bot.services.waivers import Answered
from bot.slack.blocks.text import mrkdwn
from bot.slack.blocks.waivers import request_blocks

log = logging.getLogger(__name__)
MAX_WAIT = 30.0  # seconds waited for Slack's rate limit before redrawing again


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
    await redraw(
        client,
        channel,
        ts,
        f":large_blue_diamond: {mrkdwn(notice.phrase())}",
        request_blocks(notice, answered.waiver),
    )


async def redraw(
    client: AsyncWebClient, channel: str, ts: str, text: str, blocks: list[Any], tries: int = 3
) -> bool:
    """chat.update, waiting out Slack's rate limit (its Retry-After, at most MAX_WAIT s) up
    to TRIES times; another refusal is logged. True when Slack took it."""
    for attempt in range(1, tries + 1):
        try:
            await client.chat_update(channel=channel, ts=ts, text=text, blocks=blocks)
            return True
        except SlackApiError as exc:
            error = exc.response.get("error")
            if exc.response.status_code != 429 or attempt == tries:
                log.warning("could not redraw the waiver request %s: %s", ts, error)
                return False
            wait = float(exc.response.headers.get("Retry-After") or 1)
            await asyncio.sleep(min(max(wait, 0.0), MAX_WAIT))
    return False
