"""Telling one person something privately, and turning errors into such messages."""

from __future__ import annotations

import logging
import uuid
from typing import Any

import aiohttp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.webhook.async_client import AsyncWebhookClient

from bot.domain.errors import DomainError
from bot.domain.text import Code, phrase
from bot.slack.blocks.text import mrkdwn

log = logging.getLogger(__name__)


class Replier:
    """An ephemeral reply to the person behind one request: through response_url when
    Slack gave one, else chat.postEphemeral in the channel. Both go through the Web API
    client's shared HTTP session (slack_sdk would open a new one per call otherwise)."""

    def __init__(
        self, client: AsyncWebClient, user: str, channel: str | None, response_url: str | None
    ) -> None:
        self.client, self.user, self.channel = client, user, channel
        self.response_url = response_url or None

    async def say(self, text: str, blocks: list[dict[str, Any]] | None = None) -> None:
        if self.response_url is not None:
            webhook = AsyncWebhookClient(
                self.response_url, session=self.client.session, timeout=self.client.timeout
            )
            answer = await webhook.send(
                text=text, blocks=blocks, response_type="ephemeral", replace_original=False
            )
            if answer.status_code != 200:
                log.warning("response_url answered %s: %s", answer.status_code, answer.body)
        elif self.channel:
            await self.client.chat_postEphemeral(
                channel=self.channel, user=self.user, text=text, blocks=blocks
            )
        else:
            log.warning("no way to tell %s: %s", self.user, text)

    async def error(self, exc: BaseException) -> None:
        told = describe(exc)
        try:
            await self.say(told)
        except (SlackApiError, aiohttp.ClientError, TimeoutError, ValueError) as failed:
            # Slack refused (user_not_found, a used-up response_url) or is unreachable: the
            # refusal is logged once, not raised into a second, traceback-logged failure.
            error = failed.response.get("error") if isinstance(failed, SlackApiError) else failed
            log.warning("could not tell %s %r: %s", self.user, told[:200], error)


def describe(exc: BaseException, plain: bool = False) -> str:
    """What the person is told: the rule's own words, or an error id to quote. In mrkdwn
    for a message; PLAIN for a modal's field, which shows text as it is."""
    if isinstance(exc, DomainError):
        return str(exc) if plain else mrkdwn(exc.phrase)
    error_id = uuid.uuid4().hex[:8]
    if isinstance(exc, SlackApiError):
        log.error("Slack API error %s: %s", error_id, exc.response.get("error"))
    else:
        log.error("unexpected error %s", error_id, exc_info=exc)
    said = phrase(
        "Something went wrong on our side (error ",
        Code(error_id),
        "). Please try again; if it persists, give the error id to whoever runs Readiness.",
    )
    return str(said) if plain else ":warning: " + mrkdwn(said)
