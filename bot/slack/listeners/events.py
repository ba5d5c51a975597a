"""Events: a mention of the bot answers with the release's status in the thread; opening
the app's Home tab shows the sign-offs waiting for that person and the open releases.

Each event is handled once, however often Slack delivers it (retries carry the same
event_id); the ack goes first, the work after."""

from __future__ import annotations

import logging
import re
from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_sdk.web.async_client import AsyncWebClient

from bot.domain.errors import DomainError
from bot.slack.blocks.home import home_view
from bot.slack.blocks.messages import status_blocks
from bot.slack.replies import describe
from bot.slack.services import Services

log = logging.getLogger(__name__)
_MENTION = re.compile(r"<@[A-Z0-9]+(?:\|[^>]*)?>")


def register(app: AsyncApp, services: Services) -> None:
    tasks = services.deps.tasks

    @app.event("app_mention")
    async def mentioned(
        ack: Any, body: dict[str, Any], event: dict[str, Any], client: AsyncWebClient
    ) -> None:
        await ack()
        channel = str(event.get("channel") or "")
        thread = str(event.get("thread_ts") or event.get("ts") or "")

        async def work() -> None:
            if not channel or not await services.events.first(body.get("event_id")):
                return
            words = _MENTION.sub(" ", str(event.get("text") or "")).split()
            if words and words[0].lower() == "status":
                words = words[1:]
            try:
                view = await services.releases.resolve_view(" ".join(words) or None, channel)
            except DomainError as exc:
                await client.chat_postMessage(channel=channel, thread_ts=thread, text=str(exc))
                return
            await client.chat_postMessage(
                channel=channel,
                thread_ts=thread,
                text=f"{view.release.name}: {view.readiness.percent}% ready",
                blocks=status_blocks(view),
            )

        async def failed(exc: BaseException) -> None:
            log.error("answering a mention failed: %s", describe(exc))

        tasks.spawn(work(), on_error=failed)

    @app.event("app_home_opened")
    async def home_opened(
        ack: Any, body: dict[str, Any], event: dict[str, Any], client: AsyncWebClient
    ) -> None:
        await ack()
        user = str(event.get("user") or "")
        if event.get("tab") != "home" or not user:
            return  # the Messages tab (not enabled in the manifest) needs nothing

        async def work() -> None:
            if not await services.events.first(body.get("event_id")):
                return
            services.home.opened(user)  # kept current while they may be looking at it
            home = await services.home.home(user)
            await client.views_publish(user_id=user, view=home_view(home))

        async def failed(exc: BaseException) -> None:
            log.error("publishing the home tab of %s failed: %s", user, describe(exc))

        tasks.spawn(work(), on_error=failed)
