"""Events: a mention of the bot answers with the release's status in the thread; opening
the app's Home tab shows the sign-offs waiting for that person and the open releases.

Each event is handled once, however often Slack delivers it (retries carry the same
event_id); the ack goes first, the work after."""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Coroutine
from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.domain.errors import DomainError
from bot.services.container import Services
from bot.slack.blocks.home import home_view
from bot.slack.blocks.messages import status_blocks
from bot.slack.replies import could_not_show, describe, refused_as_invalid

log = logging.getLogger(__name__)
_MENTION = re.compile(r"<@[A-Z0-9]+(?:\|[^>]*)?>")


Handle = Callable[[dict[str, Any], AsyncWebClient], Coroutine[Any, Any, None]]


def register(app: AsyncApp, services: Services) -> None:
    tasks = services.deps.tasks

    def on_event(name: str, doing: str) -> Callable[[Handle], Handle]:
        """The listener for event NAME: ack, then (once per event_id, however often Slack
        delivers it) the work, given the event; a failure is logged as DOING failed."""

        def register_work(work: Handle) -> Handle:
            @app.event(name)
            async def listener(ack: Any, body: dict[str, Any], client: AsyncWebClient) -> None:
                await ack()
                event = body.get("event") or {}

                async def once() -> None:
                    if await services.events.first(body.get("event_id")):
                        await work(event, client)

                async def failed(exc: BaseException) -> None:
                    log.error("%s failed: %s", doing, describe(exc, plain=True))

                tasks.spawn(once(), on_error=failed)

            return work

        return register_work

    @on_event("app_mention", "answering a mention")
    async def mentioned(event: dict[str, Any], client: AsyncWebClient) -> None:
        channel = str(event.get("channel") or "")
        thread = str(event.get("thread_ts") or event.get("ts") or "")
        if not channel:
            return
        words = _MENTION.sub(" ", str(event.get("text") or "")).split()
        if words and words[0].lower() == "status":
            words = words[1:]
        try:
            view = await services.releases.resolve_view(" ".join(words) or None, channel)
        except DomainError as exc:
            await client.chat_postMessage(channel=channel, thread_ts=thread, text=describe(exc))
            return
        text = f"{view.release.name}: {view.readiness.percent}% ready"
        try:
            await client.chat_postMessage(
                channel=channel,
                thread_ts=thread,
                text=text,
                blocks=status_blocks(view, private=False),
            )
        except SlackApiError as exc:
            error = refused_as_invalid(exc)
            if error is None:
                raise
            log.warning("Slack refused the status reply to a mention (%s); said in text", error)
            await client.chat_postMessage(
                channel=channel, thread_ts=thread, text=could_not_show(text, error)
            )

    @on_event("app_home_opened", "publishing a home tab")
    async def home_opened(event: dict[str, Any], client: AsyncWebClient) -> None:
        user = str(event.get("user") or "")
        if event.get("tab") != "home" or not user:
            return  # the Messages tab (not enabled in the manifest) needs nothing
        services.home.opened(user)  # kept current while they may be looking at it
        await client.views_publish(user_id=user, view=home_view(await services.home.home(user)))
