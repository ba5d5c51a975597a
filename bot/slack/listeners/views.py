"""Modal submissions. The write is committed before the ack closes the modal; a refusal
keeps the modal open with the reason shown on the field."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from slack_bolt.async_app import AsyncApp

from bot.domain import authorization as plan_fields
from bot.domain.authorization import DeploymentPlan
from bot.domain.errors import DomainError, InvalidInput
from bot.services import signoff as sign_fields
from bot.services.signoff import SignProblems, TickRefused
from bot.slack import ids
from bot.slack.replies import describe
from bot.slack.services import Services


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


# The Sign form's fields (as the services name them) -> their input blocks.
SIGN_BLOCKS = {
    sign_fields.ATTESTATIONS: ids.ATTESTATIONS,
    sign_fields.COMMENT: ids.COMMENT,
    plan_fields.WINDOW_START: ids.WINDOW_START,
    plan_fields.WINDOW_END: ids.WINDOW_END,
    plan_fields.TEAM: ids.DEPLOY_TEAM,
    plan_fields.ROLLBACK_PLAN: ids.ROLLBACK_PLAN,
}


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
    """Each problem on its own input block; one the form lacks goes on its last input."""
    blocks = [str(b.get("block_id")) for b in _input_blocks(view)]
    errors: dict[str, str] = {}
    for field, why in problems.items():
        block = SIGN_BLOCKS.get(field, field)
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
    await ack(response_action="errors", errors={target: describe(exc)[:1900]})


def register(app: AsyncApp, services: Services) -> None:
    @app.view(ids.SIGN_VIEW)
    async def sign_submitted(ack: Any, body: dict[str, Any], view: dict[str, Any]) -> None:
        user = body["user"]["id"]
        try:
            ref = ids.Ref.decode(view.get("private_metadata"))
            role = services.deps.settings.app.roles.get(ref.role or "")
            if role is None:
                raise InvalidInput("This form is out of date; click Sign again.")
            fields = _values(view)
            ticked = {
                role.attestations[int(i)]
                for i in _selected(fields.get(ids.ATTESTATIONS, {}))
                if i.isdigit() and int(i) < len(role.attestations)
            }
            comment = fields.get(ids.COMMENT, {}).get("value")
            plan = _plan(fields)
            await services.signoff.sign(ref.r, ref.role or "", user, ticked, comment, plan)
        except SignProblems as exc:
            errors = _field_errors(view, exc.problems)
            if not errors:
                await _refuse(ack, view, exc)
                return
            await ack(response_action="errors", errors=errors)
            return
        except InvalidInput as exc:
            await _refuse(ack, view, exc, ids.COMMENT)
            return
        except Exception as exc:
            await _refuse(ack, view, exc, ids.ATTESTATIONS)
            return
        await ack()

    @app.view(ids.REJECT_VIEW)
    async def reject_submitted(ack: Any, body: dict[str, Any], view: dict[str, Any]) -> None:
        try:
            ref = ids.Ref.decode(view.get("private_metadata"))
            reason = _values(view).get(ids.REASON, {}).get("value") or ""
            await services.signoff.reject(ref.r, body["user"]["id"], reason)
        except Exception as exc:
            await _refuse(ack, view, exc, ids.REASON)
            return
        await ack()

    @app.view(ids.CHECKLIST_VIEW)
    async def checklist_submitted(ack: Any, body: dict[str, Any], view: dict[str, Any]) -> None:
        manual = [
            b
            for b in _input_blocks(view)
            if str(b.get("block_id", "")).startswith(ids.MANUAL_PREFIX)
        ]
        shown = [
            str(opt.get("value"))
            for b in manual
            for opt in (b.get("element") or {}).get("options") or []
        ]
        fields = _values(view)
        ticked = {v for b in manual for v in _selected(fields.get(b["block_id"], {}))}
        try:
            ref = ids.Ref.decode(view.get("private_metadata"))
            await services.signoff.set_ticks(ref.r, body["user"]["id"], shown, ticked)
        except TickRefused as exc:
            errors: dict[str, str] = {}
            for block in manual:
                options = {o.get("value") for o in (block.get("element") or {}).get("options", [])}
                mine = [why for item, why in exc.problems.items() if item in options]
                if mine:
                    errors[block["block_id"]] = " ".join(mine)[:1900]
            await ack(response_action="errors", errors=errors)
            return
        except DomainError as exc:
            await _refuse(ack, view, exc)
            return
        except Exception as exc:
            await _refuse(ack, view, exc)
            return
        await ack()
