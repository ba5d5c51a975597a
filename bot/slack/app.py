"""build_app(): the Bolt app with its listeners. No module globals."""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_bolt.response import BoltResponse
from slack_sdk.web.async_client import AsyncWebClient

from bot.slack.listeners import actions, commands, views
from bot.slack.services import Services

log = logging.getLogger(__name__)


def build_app(services: Services, client: AsyncWebClient) -> AsyncApp:
    """`process_before_response=True`: Bolt answers Slack as soon as a listener returns;
    listeners ack first and hand their work to the bounded task runner, so acks never wait
    on Bolt's 10 ms ack polling or on other requests' work."""
    env = services.deps.settings.env
    app = AsyncApp(
        client=client,
        signing_secret=env.slack_signing_secret,
        process_before_response=True,
        raise_error_for_unhandled_request=False,
        logger=logging.getLogger("bot.slack.bolt"),
    )
    commands.register(app, services)
    actions.register(app, services)
    views.register(app, services)

    @app.error
    async def on_error(error: Exception, body: dict[str, Any]) -> BoltResponse:
        log.error("listener failed before answering Slack (%s)", body.get("type"), exc_info=error)
        return BoltResponse(status=500, body="")

    return app


def make_client(token: str, api_url: str) -> AsyncWebClient:
    base = api_url if api_url.endswith("/") else api_url + "/"
    return AsyncWebClient(token=token, base_url=base, timeout=10)
