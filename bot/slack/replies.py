"""Telling one person something privately, and turning errors into such messages."""

from __future__ import annotations

import json
import logging
import uuid
from typing import Any

import aiohttp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.webhook.async_client import AsyncWebhookClient

from bot.domain.errors import DomainError
from bot.domain.text import Code, Phrase, phrase
from bot.slack.blocks.text import mrkdwn

log = logging.getLogger(__name__)

# Slack refusing a message as it is: its length, or its blocks. Said again as text alone.
TOO_LONG = frozenset({"msg_too_long", "msg_blocks_too_long"})
REFUSED_AS_INVALID = TOO_LONG | {"invalid_blocks", "invalid_blocks_format", "invalid_attachments"}
_TRY_INSTEAD = phrase(
    "Try ", Code("/readiness status NAME"), " for one release, or open its card in the channel."
)

# Slack refusing to open a modal from a click (views.open, views.push): click again.
CLICK_AGAIN = {
    "expired_trigger_id": phrase(
        "The form could not be opened in time: Slack allows 3 seconds after a click, and it "
        "was busy. Please click the button again."
    ),
    "exchanged_trigger_id": phrase(
        "That click already opened a form. Please click the button again."
    ),
    "invalid_trigger_id": phrase(
        "Slack did not take that click to open the form. Please click the button again."
    ),
}


class Replier:
    """An ephemeral reply to the person behind one request: through response_url when
    Slack gave one, else chat.postEphemeral in the channel. Both go through the Web API
    client's shared HTTP session (slack_sdk would open a new one per call otherwise).

    A reply Slack refuses as invalid (its blocks, its length) is said again as a short
    text, so the person is never left with silence."""

    def __init__(
        self, client: AsyncWebClient, user: str, channel: str | None, response_url: str | None
    ) -> None:
        self.client, self.user, self.channel = client, user, channel
        self.response_url = response_url or None

    async def say(
        self, text: str, blocks: list[dict[str, Any]] | None = None, replace: bool = False
    ) -> None:
        """Tell them privately; REPLACE: in place of the private message they clicked in
        (through its response_url)."""
        refused = await self._send(text, blocks, replace)
        if refused is None:
            return
        log.warning(
            "Slack refused the reply to %s as invalid (%s); telling them in text: %r",
            self.user,
            refused,
            text[:200],
        )
        again = await self._send(could_not_show(text, refused), None)
        if again is not None:
            log.warning("Slack refused the text-only reply to %s too (%s)", self.user, again)

    async def replace(self, text: str, blocks: list[dict[str, Any]] | None = None) -> None:
        await self.say(text, blocks, replace=True)

    async def _send(
        self, text: str, blocks: list[dict[str, Any]] | None, replace: bool = False
    ) -> str | None:
        """Send one reply; Slack's error when it refused it as invalid, else None. Other
        refusals of a response_url are logged; of chat.postEphemeral, raised."""
        if self.response_url is not None:
            webhook = AsyncWebhookClient(
                self.response_url, session=self.client.session, timeout=self.client.timeout
            )
            answer = await webhook.send(
                text=text, blocks=blocks, response_type="ephemeral", replace_original=replace
            )
            if answer.status_code == 200:
                return None
            error = _webhook_error(answer.body)
            if error in REFUSED_AS_INVALID:
                return error
            log.warning("response_url answered %s: %s", answer.status_code, answer.body)
        elif self.channel:
            try:
                await self.client.chat_postEphemeral(
                    channel=self.channel, user=self.user, text=text, blocks=blocks
                )
            except SlackApiError as exc:
                refused = refused_as_invalid(exc)
                if refused is None:
                    raise
                return refused
        else:
            log.warning("no way to tell %s: %s", self.user, text)
        return None

    async def error(self, exc: BaseException) -> None:
        told = describe(exc)
        try:
            await self.say(told)
        except (SlackApiError, aiohttp.ClientError, TimeoutError, ValueError) as failed:
            # Slack refused (user_not_found, a used-up response_url) or is unreachable: the
            # refusal is logged once, not raised into a second, traceback-logged failure.
            error = failed.response.get("error") if isinstance(failed, SlackApiError) else failed
            log.warning("could not tell %s %r: %s", self.user, told[:200], error)


def refused_as_invalid(exc: SlackApiError) -> str | None:
    """Slack's error when it refused a message as it is (its blocks, its length)."""
    error = str(exc.response.get("error") or "")
    return error if error in REFUSED_AS_INVALID else None


def _webhook_error(body: str) -> str:
    """A response_url's refusal: Slack answers it as plain text ("invalid_blocks"); some
    stand-ins as `{"ok": false, "error": ...}`."""
    try:
        parsed = json.loads(body)
    except ValueError:
        return body.strip()
    return str(parsed.get("error") or "") if isinstance(parsed, dict) else body.strip()


def could_not_show(text: str, error: str) -> str:
    """What is said instead of a refused reply: its first line when short, and what to do."""
    first = text.strip().splitlines()[0] if text.strip() else ""
    lead = f"{first}\n" if first and len(first) <= 200 and error != "msg_too_long" else ""
    why = (
        "The answer was too long for Slack to show. "
        if error in TOO_LONG
        else "Slack could not show the answer. "
    )
    return lead + ":warning: " + mrkdwn(phrase(why) + _TRY_INSTEAD)


def describe(exc: BaseException, plain: bool = False) -> str:
    """What the person is told: the rule's own words, what to do about a known Slack
    refusal, or an error id to quote. In mrkdwn for a message; PLAIN for a modal's field,
    which shows text as it is."""
    if isinstance(exc, DomainError):
        return str(exc) if plain else mrkdwn(exc.phrase)
    said: Phrase | None = None
    if isinstance(exc, SlackApiError):
        error = str(exc.response.get("error") or "")
        said = CLICK_AGAIN.get(error)
        if said is not None:
            log.warning("Slack refused to open a form: %s", error)
    if said is None:
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
