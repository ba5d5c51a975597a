"""The modals: sign, reject, and the checklist where owners tick manual items."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from bot.domain.authorization import MAX_ROLLBACK_PLAN, MAX_TEAM, DeploymentPlan
from bot.domain.signoff import MAX_COMMENT, MAX_REASON
from bot.domain.view import ReleaseView
from bot.services.signoff import SignIntent
from bot.slack import ids
from bot.slack.blocks.common import (
    Block,
    option,
    plain,
    section,
)
from bot.slack.blocks.text import escape


def _modal(
    callback_id: str, title: str, blocks: list[Block], metadata: ids.Ref, submit: str | None
) -> dict[str, Any]:
    view: dict[str, Any] = {
        "type": "modal",
        "callback_id": callback_id,
        "title": plain(title, 24),
        "close": plain("Cancel" if submit else "Close", 24),
        "blocks": blocks[:100],
        "private_metadata": metadata.encode(),
    }
    if submit:
        view["submit"] = plain(submit, 24)
    return view


def _text_input(
    block_id: str,
    label: str,
    limit: int,
    optional: bool,
    placeholder: str,
    initial: str | None = None,
    hint: str | None = None,
) -> Block:
    element: dict[str, Any] = {
        "type": "plain_text_input",
        "action_id": ids.VALUE,
        "multiline": True,
        "max_length": limit,
        "placeholder": plain(placeholder),
    }
    if initial:
        element["initial_value"] = initial[:limit]
    block: Block = {
        "type": "input",
        "block_id": block_id,
        "optional": optional,
        "label": plain(label),
        "element": element,
    }
    if hint:
        block["hint"] = plain(hint)
    return block


def _datetime_input(block_id: str, label: str, initial: datetime | None, hint: str) -> Block:
    element: dict[str, Any] = {"type": "datetimepicker", "action_id": ids.VALUE}
    if initial is not None:
        element["initial_date_time"] = int(initial.timestamp())
    return {
        "type": "input",
        "block_id": block_id,
        "label": plain(label),
        "hint": plain(hint),
        "element": element,
    }


def authorization_inputs(plan: DeploymentPlan) -> list[Block]:
    """Section 10 in the final approver's Sign modal: window, team, rollback plan."""
    team: dict[str, Any] = {
        "type": "multi_users_select",
        "action_id": ids.VALUE,
        "placeholder": plain("Who deploys and watches the release"),
        "max_selected_items": MAX_TEAM,
    }
    if plan.team:
        team["initial_users"] = list(plan.team[:MAX_TEAM])
    return [
        section("*Deployment authorization:* when it may be deployed, by whom, how to undo it."),
        _datetime_input(
            ids.WINDOW_START,
            "Deployment window starts",
            plan.window_start,
            "In your own time zone.",
        ),
        _datetime_input(
            ids.WINDOW_END, "Deployment window ends", plan.window_end, "In your own time zone."
        ),
        {
            "type": "input",
            "block_id": ids.DEPLOY_TEAM,
            "label": plain("Deployment team"),
            "element": team,
        },
        _text_input(
            ids.ROLLBACK_PLAN,
            "Rollback plan",
            MAX_ROLLBACK_PLAN,
            False,
            "The steps to roll back, or a link to the runbook",
            initial=plan.rollback_plan,
            hint="Prefilled from this release or the last plan recorded in this channel."
            if plan.rollback_plan
            else None,
        ),
    ]


def sign_modal(intent: SignIntent) -> dict[str, Any]:
    release, role = intent.view.release, intent.role
    blocks: list[Block] = [
        section(
            f"You are signing *{escape(release.name)}* as *{escape(role.title)}*.\n"
            f"Readiness is *{intent.view.readiness.percent}%*."
            + (" This is the *final approval*: it authorizes the deployment." if role.final else "")
        )
    ]
    if role.attestations:
        blocks.append(
            {
                "type": "input",
                "block_id": ids.ATTESTATIONS,
                "label": plain("I confirm that"),
                "element": {
                    "type": "checkboxes",
                    "action_id": ids.VALUE,
                    "options": [
                        option(text, str(index)) for index, text in enumerate(role.attestations)
                    ],
                },
            }
        )
    if role.final:
        blocks += authorization_inputs(intent.plan or DeploymentPlan())
    blocks.append(
        _text_input(
            ids.COMMENT, "Comment", MAX_COMMENT, True, "Anything the other approvers should know"
        )
    )
    return _modal(
        ids.SIGN_VIEW, "Sign off", blocks, ids.Ref(r=release.id, role=intent.role_id), "Sign"
    )


def reject_modal(view: ReleaseView) -> dict[str, Any]:
    blocks = [
        section(
            f"Rejecting *{escape(view.release.name)}* blocks it until you withdraw "
            "the rejection (a signature of yours on it is withdrawn). Say what must change."
        ),
        _text_input(ids.REASON, "Reason", MAX_REASON, False, "What is wrong"),
    ]
    return _modal(ids.REJECT_VIEW, "Reject release", blocks, ids.Ref(r=view.release.id), "Reject")


def freeze_exception_modal(view: ReleaseView) -> dict[str, Any]:
    """The final approver lets the release deploy during the freezes holding it now."""
    blocks = [
        section(
            f"*{escape(view.release.name)}* may then deploy during the change freeze, until "
            "it ends. The exception and its reason are on the card and in the audit log."
        ),
        _text_input(ids.REASON, "Reason", MAX_REASON, False, "Why this cannot wait"),
    ]
    ref = ids.Ref(r=view.release.id)
    return _modal(ids.FREEZE_VIEW, "Deploy during freeze", blocks, ref, "Allow")
