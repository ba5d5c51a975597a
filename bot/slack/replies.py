"""Telling one person something privately, and turning errors into such messages."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.domain.errors import DomainError

log = logging.getLogger(__name__)

Respond = Callable[..., Awaitable[Any]]


class Replier:
    """An ephemeral reply to the person behind one request: through response_url when
    Slack gave one, else chat.postEphemeral in the channel."""

    def __init__(
        self, client: AsyncWebClient, user: str, channel: str | None, respond: Respond | None = None
    ) -> None:
        self.client, self.user, self.channel, self.respond = client, user, channel, respond

    async def say(self, text: str, blocks: list[dict[str, Any]] | None = None) -> None:
        if self.respond is not None:
            await self.respond(
                text=text, blocks=blocks, response_type="ephemeral", replace_original=False
            )
        elif self.channel:
            await self.client.chat_postEphemeral(
                channel=self.channel, user=self.user, text=text, blocks=blocks
            )
        else:
            log.warning("no way to tell %s: %s", self.user, text)

    async def error(self, exc: BaseException) -> None:
        await self.say(describe(exc))


def describe(exc: BaseException) -> str:
    """What the person is told: the rule's own words, or an error id to quote."""
    if isinstance(exc, DomainError):
        return str(exc)
    error_id = uuid.uuid4().hex[:8]
    if isinstance(exc, SlackApiError):
        log.error("Slack API error %s: %s", error_id, exc.response.get("error"))
    else:
        log.error("unexpected error %s", error_id, exc_info=exc)
    return (
        f":warning: Something went wrong on our side (error `{error_id}`). "
        "Please try again; if it persists, give the error id to whoever runs Readiness."
    )
