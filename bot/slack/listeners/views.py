"""Modal submissions. The write is committed before the ack closes the modal; a refusal
keeps the modal open with the reason shown on the field."""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from datetime import UTC, datetime
from typing import Any

from slack_bolt.async_app import AsyncApp

from bot.domain.authorization import DeploymentPlan
from bot.domain.errors import InvalidInput
from bot.domain.waiver_rules import BadDuration
from bot.services.container import Services
from bot.services.signoff import SignProblems, TickRefused
from bot.slack import ids
from bot.slack.blocks.checklist import MINE, checklist_modal
from bot.slack.replies import describe


def _values(view: dict[str, Any]) -> dict[str, dict[str, Any]]:
    values = (view.get("state") or {}).get("values") or {}
    return {
        block: (fields or {}).get(ids.VALUE) or {}
        for block, fields in values.items()
        if isinstance(fields, dict)
    }


def _selected(field: dict[str, Any]) -> list[str]:
    return [
        str(opt.get("value"))
        for opt in field.get("selected_options") or []
        if isinstance(opt, dict)
    ]


def _input_blocks(view: dict[str, Any]) -> list[dict[str, Any]]:
    return [b for b in view.get("blocks") or [] if b.get("type") == "input"]


def _moment(field: dict[str, Any]) -> datetime | None:
    """A datetimepicker's `selected_date_time`: a UNIX timestamp in seconds."""
    stamp = field.get("selected_date_time")
    if isinstance(stamp, bool) or not isinstance(stamp, int | float):
        return None
    try:
        return datetime.fromtimestamp(stamp, UTC)
    except (OverflowError, OSError, ValueError):
        return None


def _plan(fields: dict[str, dict[str, Any]]) -> DeploymentPlan | None:
    """Section 10's inputs, when the form had them (the final approver's)."""
    if not any(block in fields for block in (ids.WINDOW_START, ids.DEPLOY_TEAM)):
        return None
    users = fields.get(ids.DEPLOY_TEAM, {}).get("selected_users") or []
    return DeploymentPlan(
        window_start=_moment(fields.get(ids.WINDOW_START, {})),
        window_end=_moment(fields.get(ids.WINDOW_END, {})),
        team=tuple(str(u) for u in users if isinstance(u, str)),
        rollback_plan=fields.get(ids.ROLLBACK_PLAN, {}).get("value"),
    )


def _field_errors(view: dict[str, Any], problems: dict[str, str]) -> dict[str, str]:
    """Each problem on its own input block (the Sign form's blocks are named by its fields);
    one the form lacks goes on its last input."""
    blocks = [str(b.get("block_id")) for b in _input_blocks(view)]
    errors: dict[str, str] = {}
    for field, why in problems.items():
        block = str(field)
        if block not in blocks:
            if not blocks:
                continue
            block = blocks[-1]
        errors[block] = f"{errors[block]} {why}" if block in errors else why
    return {block: why[:1900] for block, why in errors.items()}


async def _refuse(
    ack: Any, view: dict[str, Any], exc: BaseException, field: str | None = None
) -> None:
    blocks = [b.get("block_id") for b in _input_blocks(view)]
    target = field if field in blocks else (blocks[-1] if blocks else None)
    if target is None:
        await ack()
        return
    await ack(response_action="errors", errors={target: describe(exc, plain=True)[:1900]})


def _options(block: dict[str, Any]) -> list[dict[str, Any]]:
    """The options of the checkboxes in a block (an input's element, or an actions block's)."""
    elements = block.get("elements") if isinstance(block.get("elements"), list) else []
    element = block.get("element") or (elements[0] if elements else {})
    options = element.get("options") if isinstance(element, dict) else None
    return [o for o in options or [] if isinstance(o, dict)]


class Replace(Exception):
    """The submission is answered with this view in the modal's place."""

    def __init__(self, view: dict[str, Any]) -> None:
        super().__init__("the modal is replaced")
        self.view = view


class FieldErrors(Exception):
    """The submission is refused with these errors on the modal's own fields."""

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__("; ".join(errors.values()))
        self.errors = errors


Submit = Callable[[str, dict[str, Any]], Coroutine[Any, Any, None]]


def register(app: AsyncApp, services: Services) -> None:
    def on_submit(
        callback_id: str,
        field: str | None = None,
        invalid_field: str | None = None,
        clear: bool = False,
    ) -> Callable[[Submit], Submit]:
        """The listener for a modal: the work (given the user and the view) is done before
        the ack, so what the modal closes on is committed; a refusal keeps it open, said
        on FIELD (INVALID_FIELD for what was typed wrong; by default the last input).
        CLEAR: done, it closes the modals beneath it too (a form pushed from another)."""

        def register_work(work: Submit) -> Submit:
            @app.view(callback_id)
            async def listener(ack: Any, body: dict[str, Any], view: dict[str, Any]) -> None:
                try:
                    await work(body["user"]["id"], view)
                except FieldErrors as exc:
                    await ack(response_action="errors", errors=exc.errors)
                except Replace as exc:
                    await ack(response_action="update", view=exc.view)
                except InvalidInput as exc:
                    await _refuse(ack, view, exc, invalid_field or field)
                except Exception as exc:
                    await _refuse(ack, view, exc, field)
                else:
                    await (ack(response_action="clear") if clear else ack())

            return work

        return register_work

    @on_submit(ids.SIGN_VIEW, field=ids.ATTESTATIONS, invalid_field=ids.COMMENT)
    async def sign(user: str, view: dict[str, Any]) -> None:
        ref = ids.Ref.decode(view.get("private_metadata"))
        role = (await services.deps.config_of(ref.r)).roles.get(ref.role or "")
        if role is None:
            raise InvalidInput("This form is out of date; click Sign again.")
        fields = _values(view)
        ticked = {
            role.attestations[int(i)]
            for i in _selected(fields.get(ids.ATTESTATIONS, {}))
            if i.isdigit() and int(i) < len(role.attestations)
        }
        comment = fields.get(ids.COMMENT, {}).get("value")
        try:
            await services.signoff.sign(ref.r, ref.role or "", user, ticked, comment, _plan(fields))
        except SignProblems as exc:
            errors = _field_errors(view, exc.problems)
            if not errors:
                raise InvalidInput(exc.phrase) from None
            raise FieldErrors(errors) from None

    @on_submit(ids.REJECT_VIEW, field=ids.REASON)
    async def reject(user: str, view: dict[str, Any]) -> None:
        ref = ids.Ref.decode(view.get("private_metadata"))
        reason = _values(view).get(ids.REASON, {}).get("value") or ""
        await services.signoff.reject(ref.r, user, reason)

    @on_submit(ids.FREEZE_VIEW, field=ids.REASON)
    async def freeze_exception(user: str, view: dict[str, Any]) -> None:
        ref = ids.Ref.decode(view.get("private_metadata"))
        reason = _values(view).get(ids.REASON, {}).get("value") or ""
        await services.freezes.grant(ref.r, user, reason)

    @on_submit(ids.WAIVER_VIEW, field=ids.REASON, clear=True)
    async def waiver_request(user: str, view: dict[str, Any]) -> None:
        ref = ids.Ref.decode(view.get("private_metadata"))
        fields = _values(view)
        duration = fields.get(ids.DURATION, {}).get("value") or ""
        reason = fields.get(ids.REASON, {}).get("value") or ""
        try:
            await services.waivers.request(ref.r, ref.i or "", user, duration, reason)
        except BadDuration as exc:
            raise FieldErrors({ids.DURATION: describe(exc, plain=True)}) from None

    @on_submit(ids.WAIVER_DENY_VIEW, field=ids.REASON)
    async def waiver_deny(user: str, view: dict[str, Any]) -> None:
        ref = ids.Ref.decode(view.get("private_metadata"))
        reason = _values(view).get(ids.REASON, {}).get("value") or ""
        await services.waivers.answer(ref.r, ref.w or 0, user, False, reason)

    @on_submit(ids.CHECKLIST_VIEW)
    async def checklist(user: str, view: dict[str, Any]) -> None:
        manual = [
            b
            for b in view.get("blocks") or []
            if str(b.get("block_id", "")).startswith(ids.MANUAL_PREFIX)
        ]
        shown = [str(opt.get("value")) for b in manual for opt in _options(b)]
        fields = _values(view)
        ticked = {v for b in manual for v in _selected(fields.get(b["block_id"], {}))}
        ref = ids.Ref.decode(view.get("private_metadata"))
        try:
            await services.signoff.set_ticks(ref.r, user, shown, ticked)
        except TickRefused as exc:  # shown again as it stands now, saying why
            release, held = await services.signoff.checklist(ref.r, user)
            app = services.deps.config(release.release)
            raise Replace(checklist_modal(app, release, held, ref.s or MINE, str(exc))) from None
