"""Modal submissions. The write is committed before the ack closes the modal; a refusal
keeps the modal open with the reason shown on the field."""

from __future__ import annotations

from typing import Any

from slack_bolt.async_app import AsyncApp

from bot.domain.errors import DomainError, InvalidInput
from bot.services.signoff import MissingAttestations, TickRefused
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
            await services.signoff.sign(ref.r, ref.role or "", user, ticked, comment)
        except MissingAttestations as exc:
            await _refuse(ack, view, exc, ids.ATTESTATIONS)
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
