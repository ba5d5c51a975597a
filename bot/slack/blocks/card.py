"""The release card: one message per release, re-rendered on every change."""

from __future__ import annotations

from typing import Any

from bot.domain.model import ReleaseState
from bot.domain.view import ReleaseView
from bot.slack import ids
from bot.slack.blocks.common import (
    STATE_LABEL,
    STATUS_ICON,
    Block,
    bar,
    button,
    context,
    divider,
    header,
    option,
    section,
    when,
)
from bot.text import escape, truncate

APPROVED_TEXT = "Approved for production deployment"
MAX_FAILING_SHOWN = 6


def card_text(view: ReleaseView) -> str:
    """The notification / fallback text of the card."""
    release = view.release
    state = APPROVED_TEXT if view.authorization.approved else release.state.value
    return f"{release.name}: {view.readiness.percent}% ready, {state}"


def _summary(view: ReleaseView) -> list[Block]:
    release = view.release
    lines = [
        f"*Readiness {view.readiness.percent}%*  {bar(view.readiness.percent)}",
        f"*State:* {STATE_LABEL[release.state]}",
    ]
    blocks: list[Block] = [section("\n".join(lines))]
    fields = []
    for progress in view.readiness.sections:
        icon = ":white_check_mark:" if progress.complete else ":hourglass_flowing_sand:"
        fields.append(
            {
                "type": "mrkdwn",
                "text": truncate(
                    f"{icon} *{escape(progress.section.title)}*  "
                    f"{progress.passed}/{progress.total}",
                    2000,
                ),
            }
        )
    for start in range(0, len(fields), 10):
        blocks.append({"type": "section", "fields": fields[start : start + 10]})
    failing = view.readiness.blocking_not_passing
    shown = [v for v in failing if v.status.value in ("fail", "error")][:MAX_FAILING_SHOWN]
    if shown:
        lines = [
            f"{STATUS_ICON[v.status]} {escape(v.item.title)}: {escape(v.reason or '')}"
            for v in shown
        ]
        rest = len([v for v in failing if v.status.value in ("fail", "error")]) - len(shown)
        if rest > 0:
            lines.append(f"…and {rest} more (see Checklist)")
        blocks.append(section("*Not passing:*\n" + "\n".join(lines)))
    if view.running and view.run is not None:
        blocks.append(
            context(f":hourglass_flowing_sand: Running checks {view.run.done}/{view.run.total}…")
        )
    return blocks


def _roles(view: ReleaseView) -> list[Block]:
    lines = []
    for progress in view.roles:
        who = ", ".join(f"<@{s.user_id}> {when(s.signed_at)}" for s in progress.signatures)
        need = progress.role.min_signers
        if progress.complete:
            state = f":white_check_mark: {who}"
        elif progress.signatures:
            state = f":hourglass_flowing_sand: {len(progress.signatures)}/{need}: {who}"
        else:
            state = ":white_circle: pending" + (f" ({need} signers)" if need > 1 else "")
        final = " _(final approval)_" if progress.role.final else ""
        lines.append(f"*{escape(progress.role.title)}*{final}: {state}")
    blocks = [section("*Sign-off*\n" + "\n".join(lines))]
    for rejection in view.rejections:
        blocks.append(
            section(
                f":no_entry: *Rejected by <@{rejection.user_id}>* "
                f"{when(rejection.created_at)}: {escape(rejection.reason)}"
            )
        )
    return blocks


def _authorization(view: ReleaseView) -> list[Block]:
    auth = view.authorization
    if view.release.state is ReleaseState.CANCELLED:
        who = f" by <@{view.release.closed_by}>" if view.release.closed_by else ""
        return [section(f"*Deployment authorization:* :x: cancelled{who}")]
    if auth.approved:
        text = f"*Deployment authorization:* :white_check_mark: *{APPROVED_TEXT}*"
        if view.release.approved_at:
            text += f" ({when(view.release.approved_at)})"
    else:
        text = "*Deployment authorization:* not approved yet"
    conditions = "\n".join(
        f"{':white_check_mark:' if c.met else ':white_circle:'} {escape(c.text)}"
        for c in auth.conditions
    )
    return [section(f"{text}\n{conditions}")]


def _actions(view: ReleaseView) -> list[Block]:
    release = view.release
    if not release.state.active:
        return []
    ref = ids.Ref(r=release.id)
    elements: list[dict[str, Any]] = []
    if release.state is ReleaseState.OPEN:
        for progress in view.open_roles:
            elements.append(
                button(
                    f"Sign as {progress.role.title}",
                    ids.SIGN_PREFIX + progress.role_id,
                    ids.Ref(r=release.id, role=progress.role_id).encode(),
                    style="primary" if progress.role.final else None,
                )
            )
    elements.append(button("Run checks", ids.RUN_CHECKS, ref.encode()))
    elements.append(button("Checklist", ids.CHECKLIST, ref.encode()))
    elements.append(
        {
            "type": "overflow",
            "action_id": ids.MORE,
            "options": [
                option("Withdraw my signature", ids.Ref(r=release.id, op=ids.OP_WITHDRAW).encode()),
                option("Reject…", ids.Ref(r=release.id, op=ids.OP_REJECT).encode()),
                option("Withdraw my rejection", ids.Ref(r=release.id, op=ids.OP_UNREJECT).encode()),
            ],
        }
    )
    return [{"type": "actions", "block_id": f"card:{release.id}", "elements": elements[:25]}]


def card(view: ReleaseView, with_actions: bool = True) -> list[Block]:
    release = view.release
    meta = [escape(view.product)]
    if release.ref:
        meta.append(f"ref `{escape(release.ref)}`")
    meta.append(f"opened by <@{release.created_by}> {when(release.created_at)}")
    blocks: list[Block] = [
        header(f"{release.name} · production readiness"),
        context(" · ".join(meta)),
    ]
    blocks += _summary(view)
    blocks.append(divider())
    blocks += _roles(view)
    blocks.append(divider())
    blocks += _authorization(view)
    if with_actions:
        blocks += _actions(view)
    return blocks
