"""Buttons on the card and in its thread: ack at once, then the work; refusals come back as
ephemeral messages."""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_sdk.web.async_client import AsyncWebClient

from bot.domain.errors import DomainError, InvalidInput
from bot.domain.model import PRE_DEPLOY, ReleaseState
from bot.services.container import Services
from bot.slack import ids
from bot.slack.blocks.checklist import MINE, checklist_modal
from bot.slack.blocks.messages import STATES, list_blocks, list_text, question_blocks
from bot.slack.blocks.modals import freeze_exception_modal, reject_modal, sign_modal
from bot.slack.blocks.text import escape
from bot.slack.blocks.waivers import deny_modal, notice_modal, request_modal
from bot.slack.replies import Replier, describe

Click = Callable[["Clicked"], Coroutine[Any, Any, None]]


class Clicked:
    """One click: who, on what (the element's decoded value), and how to answer them."""

    def __init__(self, body: dict[str, Any], client: AsyncWebClient) -> None:
        self.body, self.client = body, client
        channel = (body.get("channel") or {}).get("id") or (body.get("container") or {}).get(
            "channel_id"
        )
        user = (body.get("user") or {}).get("id", "")
        self.reply = Replier(client, user, channel, body.get("response_url"))

    @property
    def user(self) -> str:
        return self.reply.user

    @property
    def ref(self) -> ids.Ref:
        actions = self.body.get("actions") or [{}]
        action = actions[0] if isinstance(actions[0], dict) else {}
        raw = action.get("value") or (action.get("selected_option") or {}).get("value")
        return ids.Ref.decode(raw)

    async def open(self, view: dict[str, Any]) -> None:
        await self.client.views_open(trigger_id=self.body["trigger_id"], view=view)

    async def push(self, view: dict[str, Any]) -> None:
        """On top of the modal clicked in."""
        await self.client.views_push(trigger_id=self.body["trigger_id"], view=view)


def register(app: AsyncApp, services: Services) -> None:
    tasks = services.deps.tasks

    def on_click(action_id: Any) -> Callable[[Click], Click]:
        """The listener for ACTION_ID: ack, then run the work after the ack; what it
        raises is told to the person privately."""

        def register_work(work: Click) -> Click:
            @app.action(action_id)
            async def listener(ack: Any, body: dict[str, Any], client: AsyncWebClient) -> None:
                await ack()
                clicked = Clicked(body, client)
                tasks.spawn(work(clicked), on_error=clicked.reply.error)

            return work

        return register_work

    @on_click(ids.SIGN)
    async def sign(clicked: Clicked) -> None:
        ref = clicked.ref
        if ref.role is None:
            raise InvalidInput("That button is out of date.")
        intent = await services.signoff.prepare(ref.r, ref.role, clicked.user)
        await clicked.open(sign_modal(intent))

    @on_click(ids.RUN_CHECKS)
    async def run_checks(clicked: Clicked) -> None:
        total = await services.checks.start(clicked.ref.r, "button", clicked.user)
        if total is None:
            await clicked.reply.say("Checks are already running; the card shows their progress.")
        elif total:
            await clicked.reply.say(f"Running {total} checks; the card fills in as results arrive.")
        else:
            await clicked.reply.say("This release has no automated checks to run.")

    @on_click(ids.CHECKLIST)
    async def checklist(clicked: Clicked) -> None:
        view, held = await services.signoff.checklist(clicked.ref.r, clicked.user)
        await clicked.open(checklist_modal(services.deps.config(view.release), view, held))

    @on_click(ids.CHECKLIST_SECTION)
    async def checklist_section(clicked: Clicked) -> None:
        """The Checklist's section picker: the modal shows the section chosen."""
        shown = clicked.body.get("view") or {}
        action = (clicked.body.get("actions") or [{}])[0]
        page = str((action.get("selected_option") or {}).get("value") or MINE)
        ref = ids.Ref.decode(shown.get("private_metadata"))
        view, held = await services.signoff.checklist(ref.r, clicked.user)
        await clicked.client.views_update(
            view_id=shown.get("id"),
            hash=shown.get("hash"),
            view=checklist_modal(services.deps.config(view.release), view, held, page),
        )

    @on_click(ids.MORE)
    async def more(clicked: Clicked) -> None:
        ref, user = clicked.ref, clicked.user
        if ref.op == ids.OP_WITHDRAW:
            view, title = await services.signoff.check_withdraw(ref.r, user)
            name = escape(view.release.name)
            question = (
                f"Withdraw your signature as *{escape(title)}* on *{name}*? "
                f"The card shows {escape(title)} unsigned until someone signs again."
            )
            await clicked.reply.say(
                f"Withdraw your signature on {view.release.name}?",
                question_blocks(question, "Withdraw my signature", "Keep it", ref.encode()),
            )
        elif ref.op == ids.OP_REJECT:
            await clicked.open(reject_modal(await services.signoff.check_reject(ref.r, user)))
        elif ref.op == ids.OP_UNREJECT:
            view = await services.signoff.withdraw_rejection(ref.r, user)
            await clicked.reply.say(
                f"Your rejection of *{escape(view.release.name)}* is withdrawn."
            )
        else:
            raise InvalidInput("That menu item is out of date.")

    @on_click(ids.CONFIRM)
    async def confirmed(clicked: Clicked) -> None:
        """The red button of a private question: do what it asked, said in its place."""
        ref, user = clicked.ref, clicked.user
        if ref.op == ids.OP_WITHDRAW:
            view = await services.signoff.withdraw(ref.r, user)
            said = f"Your signature on *{escape(view.release.name)}* is withdrawn."
        elif ref.op == ids.OP_CANCEL:
            view = await services.releases.cancel(ref.r, user)
            said = f"Cancelled *{escape(view.release.name)}*."
        else:
            raise InvalidInput("That button is out of date.")
        await clicked.reply.replace(said)

    @on_click(ids.KEEP)
    async def kept(clicked: Clicked) -> None:
        said = {ids.OP_WITHDRAW: "Your signature stands.", ids.OP_CANCEL: "The release stays."}
        await clicked.reply.replace(
            f"Nothing changed. {said.get(clicked.ref.op or '', '')}".strip()
        )

    @on_click(ids.LIST_PAGE)
    async def list_page(clicked: Clicked) -> None:
        ref = clicked.ref
        states = frozenset({ReleaseState(ref.op)}) if ref.op in STATES else PRE_DEPLOY
        known = services.deps.catalog.products
        products = [p for p in ref.p.split(",") if p in known] if ref.p else None
        found = await services.releases.listing(states, ref.page or 1, products=products)
        await clicked.reply.replace(list_text(found), list_blocks(found))

    @on_click(ids.DEPLOYED)
    async def deployed(clicked: Clicked) -> None:
        await services.deploy.mark_deployed(clicked.ref.r, clicked.user)

    @on_click(ids.FREEZE_EXCEPTION)
    async def freeze_exception(clicked: Clicked) -> None:
        view = await services.freezes.check_except(clicked.ref.r, clicked.user)
        await clicked.open(freeze_exception_modal(view))

    @on_click(ids.WAIVER_ASK)
    async def waiver_ask(clicked: Clicked) -> None:
        """Request waiver… in the Checklist: the form, on top of it (or why not)."""
        ref = clicked.ref
        try:
            view = await services.waivers.check_request(ref.r, ref.i or "", clicked.user)
        except DomainError as exc:
            await clicked.push(notice_modal("Request waiver", describe(exc)))
            return
        app = services.deps.config(view.release)
        item = app.item(ref.i or "")
        if item is None:
            raise InvalidInput("That item is no longer on the checklist.")
        await clicked.push(request_modal(app, view, item))

    @on_click(ids.WAIVER_APPROVE)
    async def waiver_approve(clicked: Clicked) -> None:
        ref = clicked.ref
        await services.waivers.answer(ref.r, ref.w or 0, clicked.user, grant=True)

    @on_click(ids.WAIVER_DENY)
    async def waiver_deny(clicked: Clicked) -> None:
        ref = clicked.ref
        asked = await services.waivers.check_answer(ref.r, ref.w or 0, clicked.user)
        await clicked.open(deny_modal(asked.view, asked.waiver))

    @on_click(ids.WAIVER_WITHDRAW)
    async def waiver_withdraw(clicked: Clicked) -> None:
        """On the card's waived item, for its grantor."""
        ref = clicked.ref
        view = await services.waivers.withdraw(ref.r, ref.w or 0, clicked.user)
        title = next((w.item_title for w in view.waivers if w.id == ref.w), "the item")
        await clicked.reply.say(
            f"Your waiver of *{escape(title)}* on *{escape(view.release.name)}* is withdrawn; "
            "it counts by its latest result again."
        )

    async def answer_alert(clicked: Clicked, rollback: bool) -> None:
        ref, monitor = clicked.ref, services.monitor
        if ref.m is not None:
            await monitor.answer_breach(ref.r, ref.m, clicked.user, rollback)
        elif ref.alert is not None:  # the buttons of an older version's alert
            await monitor.answer(ref.r, ref.alert, clicked.user, rollback)
        else:
            raise InvalidInput("That button is out of date.")

    @on_click(ids.ALERT_ACK)
    async def acknowledge(clicked: Clicked) -> None:
        await answer_alert(clicked, rollback=False)

    @on_click(ids.ALERT_ROLLBACK)
    async def roll_back(clicked: Clicked) -> None:
        await answer_alert(clicked, rollback=True)

    @app.action({"action_id": ids.VALUE})
    async def input_changed(ack: Any) -> None:
        await ack()  # inputs inside our modals; their values arrive with the submission
