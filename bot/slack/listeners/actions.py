"""Buttons on the card: ack at once; refusals come back as ephemeral messages."""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_sdk.web.async_client import AsyncWebClient

from bot.domain.errors import InvalidInput
from bot.slack import ids
from bot.slack.blocks.modals import checklist_modal, reject_modal, sign_modal
from bot.slack.replies import Replier
from bot.slack.services import Services
from bot.text import escape

log = logging.getLogger(__name__)


def _action(body: dict[str, Any]) -> dict[str, Any]:
    actions = body.get("actions") or [{}]
    return actions[0] if isinstance(actions[0], dict) else {}


def _ref(action: dict[str, Any]) -> ids.Ref:
    raw = action.get("value") or (action.get("selected_option") or {}).get("value")
    return ids.Ref.decode(raw)


def _replier(body: dict[str, Any], client: AsyncWebClient) -> Replier:
    channel = (body.get("channel") or {}).get("id") or (body.get("container") or {}).get(
        "channel_id"
    )
    user = (body.get("user") or {}).get("id", "")
    return Replier(client, user, channel, body.get("response_url"))


def register(app: AsyncApp, services: Services) -> None:
    tasks = services.deps.tasks
    owners = {role_id: role.title for role_id, role in services.deps.settings.app.roles.items()}

    @app.action(ids.SIGN)
    async def sign_clicked(ack: Any, body: dict[str, Any], client: AsyncWebClient) -> None:
        await ack()
        reply = _replier(body, client)

        async def work() -> None:
            ref = _ref(_action(body))
            if ref.role is None:
                raise InvalidInput("That button is out of date.")
            intent = await services.signoff.prepare(ref.r, ref.role, reply.user)
            await client.views_open(trigger_id=body["trigger_id"], view=sign_modal(intent))

        tasks.spawn(work(), on_error=reply.error)

    @app.action(ids.RUN_CHECKS)
    async def run_checks_clicked(ack: Any, body: dict[str, Any], client: AsyncWebClient) -> None:
        await ack()
        reply = _replier(body, client)

        async def work() -> None:
            ref = _ref(_action(body))
            total = await services.checks.start(ref.r, "button", reply.user)
            if total is None:
                await reply.say("Checks are already running; the card shows their progress.")

        tasks.spawn(work(), on_error=reply.error)

    @app.action(ids.CHECKLIST)
    async def checklist_clicked(ack: Any, body: dict[str, Any], client: AsyncWebClient) -> None:
        await ack()
        reply = _replier(body, client)

        async def work() -> None:
            view = await services.releases.view(_ref(_action(body)).r)
            await client.views_open(
                trigger_id=body["trigger_id"], view=checklist_modal(view, owners)
            )

        tasks.spawn(work(), on_error=reply.error)

    @app.action(ids.MORE)
    async def more_chosen(ack: Any, body: dict[str, Any], client: AsyncWebClient) -> None:
        await ack()
        reply = _replier(body, client)

        async def work() -> None:
            ref = _ref(_action(body))
            if ref.op == ids.OP_WITHDRAW:
                await services.signoff.withdraw(ref.r, reply.user)
                await reply.say("Your signature is withdrawn.")
            elif ref.op == ids.OP_REJECT:
                view = await services.signoff.check_reject(ref.r, reply.user)
                await client.views_open(trigger_id=body["trigger_id"], view=reject_modal(view))
            elif ref.op == ids.OP_UNREJECT:
                view = await services.signoff.withdraw_rejection(ref.r, reply.user)
                await reply.say(f"Your rejection of *{escape(view.release.name)}* is withdrawn.")
            else:
                raise InvalidInput("That menu item is out of date.")

        tasks.spawn(work(), on_error=reply.error)

    @app.action(ids.DEPLOYED)
    async def deployed_clicked(ack: Any, body: dict[str, Any], client: AsyncWebClient) -> None:
        await ack()
        reply = _replier(body, client)

        async def work() -> None:
            await services.deploy.mark_deployed(_ref(_action(body)).r, reply.user)

        tasks.spawn(work(), on_error=reply.error)

    async def answer_alert(body: dict[str, Any], client: AsyncWebClient, rollback: bool) -> None:
        reply = _replier(body, client)

        async def work() -> None:
            ref = _ref(_action(body))
            if ref.alert is None:
                raise InvalidInput("That button is out of date.")
            await services.monitor.answer(ref.r, ref.alert, reply.user, rollback)

        tasks.spawn(work(), on_error=reply.error)

    @app.action(ids.ALERT_ACK)
    async def alert_acknowledged(ack: Any, body: dict[str, Any], client: AsyncWebClient) -> None:
        await ack()
        await answer_alert(body, client, rollback=False)

    @app.action(ids.ALERT_ROLLBACK)
    async def rollback_decided(ack: Any, body: dict[str, Any], client: AsyncWebClient) -> None:
        await ack()
        await answer_alert(body, client, rollback=True)

    @app.action({"action_id": ids.VALUE})
    async def input_changed(ack: Any) -> None:
        await ack()  # inputs inside our modals; their values arrive with the submission
