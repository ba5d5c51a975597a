"""build_app(): the Bolt app with its listeners. No module globals."""

from __future__ import annotations

import logging
import re
from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_bolt.logger.messages import warning_client_prioritized_and_token_skipped
from slack_bolt.response import BoltResponse
from slack_sdk.web.async_client import AsyncWebClient

from bot.services.container import Services
from bot.slack.listeners import actions, commands, events, views

log = logging.getLogger(__name__)


def build_app(services: Services, client: AsyncWebClient) -> AsyncApp:
    """`process_before_response=True`: Bolt answers Slack as soon as a listener returns;
    listeners ack first and hand their work to the bounded task runner, so acks never wait
    on Bolt's 10 ms ack polling or on other requests' work."""
    env = services.deps.settings.env
    bolt_log = logging.getLogger("bot.slack.bolt")
    bolt_log.addFilter(_token_in_client)
    app = AsyncApp(
        client=client,
        signing_secret=env.slack_signing_secret,
        process_before_response=True,
        # bot/web.py verifies every HTTP request's signature (and refuses replays) before
        # Bolt sees it; Socket Mode requests come over Slack's own authenticated socket.
        request_verification_enabled=False,
        raise_error_for_unhandled_request=False,
        logger=bolt_log,
    )

    @app.middleware
    async def shared_client(context: Any, next: Any) -> BoltResponse:
        # Bolt hands each listener a plain client of its own; listeners get the app's
        # client instead, so their calls (views.open, ...) are counted in /metrics too.
        context["client"] = client
        return await next()  # type: ignore[no-any-return]

    commands.register(app, services)
    actions.register(app, services)
    views.register(app, services)
    events.register(app, services)
    _ignore_the_rest(app)

    @app.error
    async def on_error(error: Exception, body: dict[str, Any]) -> BoltResponse:
        log.error("listener failed before answering Slack (%s)", body.get("type"), exc_info=error)
        return BoltResponse(status=500, body="")

    return app


def _token_in_client(record: logging.LogRecord) -> bool:
    """Drops Bolt's start-up warning that SLACK_BOT_TOKEN "will be unused": Bolt reads the
    variable itself, and the client handed to it carries that very token."""
    return record.getMessage() != warning_client_prioritized_and_token_skipped()


def _ignore_the_rest(app: AsyncApp) -> None:
    """Registered last: an action or view this version doesn't know (an old message's
    button, another app's) is acknowledged and logged, never answered with an error."""
    anything = re.compile(".*")

    @app.action(anything)
    async def unknown_action(ack: Any, body: dict[str, Any]) -> None:
        await ack()
        action = (body.get("actions") or [{}])[0]
        log.info("ignored unknown action %r", str(action.get("action_id", ""))[:80])

    @app.view(anything)
    async def unknown_view(ack: Any, body: dict[str, Any]) -> None:
        await ack()
        log.info("ignored unknown view %r", str(body.get("view", {}).get("callback_id"))[:80])
