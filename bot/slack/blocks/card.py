"""The release card: one message per release, re-rendered on every change."""

from __future__ import annotations

import re
from typing import Any

from bot.domain.freezes import ChangeFreeze
from bot.domain.github import Gate, Verdict
from bot.domain.model import SHIPPED, Release, ReleaseState
from bot.domain.reasons import BlockingItems, Reason, RejectedBy
from bot.domain.text import listed, truncate
from bot.domain.view import ReleaseView
from bot.slack import ids
from bot.slack.blocks.common import (
    STATE_LABEL,
    STATUS_ICON,
    Block,
    bar,
    button,
    chunk_lines,
    context,
    divider,
    header,
    option,
    plain,
    section,
)
from bot.slack.blocks.text import clip, escape, mrkdwn, quote, when
from bot.slack.blocks.waivers import card_blocks as waiver_blocks

APPROVED_TEXT = "Approved for production deployment"
MAX_FAILING_SHOWN = 6
MAX_PLAN_SHOWN = 2400  # characters of the quoted rollback plan on the card
MAX_REASONS_SHOWN = 600  # characters of the "not approved because" line
ITEMS_IN_REASON = 3  # blocking items the line names (the card lists them above)
MAX_BREACHING_SHOWN = 10
MAX_REJECTIONS_SHOWN = 5  # the newest; the rest are counted
MAX_REJECTION_SHOWN = 400  # characters of each one's reason, escaped
MAX_EXCEPTIONS_SHOWN = 3  # freeze exceptions on the card, the newest


def card_text(view: ReleaseView) -> str:
    """The notification / fallback text of the card."""
    release = view.release
    state = release.state.value
    if view.authorization.approved and release.state not in SHIPPED:
        state = APPROVED_TEXT
    return f"{release.name}: {view.readiness.percent}% ready, {state}"


def _state(view: ReleaseView) -> str:
    if view.monitoring is not None and view.monitoring.rollback is not None:
        return ":leftwards_arrow_with_hook: Rolled back"
    return STATE_LABEL[view.release.state]


def _summary(view: ReleaseView) -> list[Block]:
    lines = [
        f"*Readiness {view.readiness.percent}%*  {bar(view.readiness.percent)}",
        f"*State:* {_state(view)}",
    ]
    blocks: list[Block] = [section("\n".join(lines))]
    fields = []
    for progress in view.readiness.sections:
        icon = ":white_check_mark:" if progress.complete else ":hourglass_flowing_sand:"
        waived = sum(1 for v in progress.items if v.waived)
        count = f"{progress.passed}/{progress.total}" + (f" ({waived} waived)" if waived else "")
        fields.append(
            {
                "type": "mrkdwn",
                "text": truncate(f"{icon} *{escape(progress.section.title)}*  {count}", 2000),
            }
        )
    for start in range(0, len(fields), 10):
        blocks.append({"type": "section", "fields": fields[start : start + 10]})
    failing = view.readiness.blocking_not_passing
    shown = [v for v in failing if v.status.value in ("fail", "error")][:MAX_FAILING_SHOWN]
    if shown:
        lines = [
            f"{STATUS_ICON[v.status]} {escape(v.item.title)}: {clip(escape(v.reason or ''), 300)}"
            for v in shown
        ]
        rest = len([v for v in failing if v.status.value in ("fail", "error")]) - len(shown)
        if rest > 0:
            lines.append(f"…and {rest} more (see Checklist)")
        blocks.append(section("*Not passing:*\n" + "\n".join(lines)))
    blocks += waiver_blocks(view)
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
        stale = [s for s in view.stale if s.signature.role_id == progress.role_id]
        state += "".join(
            f"\n      :warning: <@{s.signature.user_id}>'s signature is stale: "
            f"{mrkdwn(s.staleness.phrase())}; sign again"
            for s in stale
        )
        lines.append(f"*{escape(progress.role.title)}*{final}: {state}")
    blocks = [section("*Sign-off*\n" + "\n".join(lines))]
    if view.rejections:
        newest = sorted(view.rejections, key=lambda r: r.created_at, reverse=True)
        said = [
            f":no_entry: *Rejected by <@{r.user_id}>* {when(r.created_at)}: "
            + clip(escape(r.reason), MAX_REJECTION_SHOWN)
            for r in newest[:MAX_REJECTIONS_SHOWN]
        ]
        if len(newest) > MAX_REJECTIONS_SHOWN:
            said.append(f"…and {len(newest) - MAX_REJECTIONS_SHOWN} more rejections")
        blocks += [section(text) for text in chunk_lines(said)]
    return blocks


def _reason(reason: Reason) -> str:
    if isinstance(reason, BlockingItems):
        return mrkdwn(reason.phrase(ITEMS_IN_REASON))
    return mrkdwn(reason.phrase())


def _reasons(view: ReleaseView) -> str:
    """Why it is not approved, in one bounded line of whole reasons (rejections are quoted
    under Sign-off)."""
    reasons = [_reason(r) for r in view.authorization.reasons if not isinstance(r, RejectedBy)]
    shown: list[str] = []
    for index, reason in enumerate(reasons):
        if shown and len("; ".join([*shown, reason])) > MAX_REASONS_SHOWN:
            shown.append(f"…and {len(reasons) - index} more")
            break
        shown.append(reason)
    text = "; ".join(shown)
    if view.rejections:
        who = ", ".join(f"<@{r.user_id}>" for r in view.rejections)
        text = f"{text}; rejected by {who}" if text else f"rejected by {who}"
    return text or "not yet"


def _quoted_plan(plan: str) -> str:
    """The rollback plan as a quote, escaped, within MAX_PLAN_SHOWN characters."""
    shown = plan
    while len(quote(shown)) > MAX_PLAN_SHOWN:
        shown = shown[: int(len(shown) * 0.8)]
    if shown != plan:
        shown = shown.rstrip() + " …"
    return quote(shown) or "> –"


def _record(view: ReleaseView) -> list[Block]:
    """Section 10's record: window, team, rollback plan (a planned window before that)."""
    release = view.release
    approved = view.authorization.approved or release.state in SHIPPED
    lines = []
    if release.window_start and release.window_end:
        planned = "" if approved else " _(planned)_"
        lines.append(
            f"*Deployment window:* {when(release.window_start)} – "
            f"{when(release.window_end)}{planned}"
        )
    elif approved:
        lines.append("*Deployment window:* _not recorded_")
    if release.deploy_team:
        lines.append("*Deployment team:* " + ", ".join(f"<@{u}>" for u in release.deploy_team))
    elif approved:
        lines.append("*Deployment team:* _not recorded_")
    if release.rollback_plan:
        lines.append("*Rollback plan:*\n" + _quoted_plan(release.rollback_plan))
    elif approved:
        lines.append("*Rollback plan:* _not recorded_")
    return [section("\n".join(lines))] if lines else []


def _authorization(view: ReleaseView) -> list[Block]:
    """Section 10 of the sign-off: the answer, its conditions, and the record."""
    auth = view.authorization
    release = view.release
    if release.state is ReleaseState.CANCELLED:
        who = f" by <@{release.closed_by}>" if release.closed_by else ""
        return [section(f"*Deployment authorization:* :x: cancelled{who}")]
    if auth.approved:
        answer = f":white_check_mark: *{APPROVED_TEXT}*"
        if release.approved_at:
            answer += f" ({when(release.approved_at)})"
    else:  # one answer: why not (a suspension says so first)
        icon = ":warning:" if release.state is ReleaseState.SUSPENDED else ":white_circle:"
        answer = f"{icon} not approved: {_reasons(view)}"
    conditions = "\n".join(
        f"{':white_check_mark:' if c.met else ':white_circle:'} {mrkdwn(c.phrase())}"
        for c in auth.conditions
    )
    text = f"*Deployment authorization:* {answer}\n*Conditions:*\n{conditions}"
    return [section(text), *_exceptions(view), *_record(view)]


def _exceptions(view: ReleaseView) -> list[Block]:
    """Change freezes the final role let this release deploy during (the newest few)."""
    granted = view.exceptions
    lines = [
        f":snowflake: *Deploy during freeze:* {escape(e.title or e.freeze_id)} until "
        f"{when(e.ends_at)}, by <@{e.granted_by}>: {clip(escape(e.reason), MAX_REJECTION_SHOWN)}"
        for e in granted[-MAX_EXCEPTIONS_SHOWN:]
    ]
    return [context("\n".join(lines))] if lines else []


def post_deploy_lines(view: ReleaseView) -> list[str]:
    """The post-deployment status under "Deployed …": each phase, its digest, the breaches."""
    status = view.monitoring
    if status is None:
        return []
    lines = []
    upcoming = True
    for window, digested in status.phases:
        title = escape(window.phase.title)
        if digested:
            lines.append(f":white_check_mark: {title}: digest posted")
        elif upcoming:
            upcoming = False
            lines.append(f":eyes: {title}: until {when(window.end)}")
        else:
            lines.append(f":white_circle: {title}: {when(window.start)} – {when(window.end)}")
    if status.breaching:
        shown = mrkdwn(listed(list(status.breaching), MAX_BREACHING_SHOWN, more=", …and {n} more"))
        lines.append(f":rotating_light: *Breaching now:* {shown}")
    return lines


_USER_ID = re.compile(r"^[UW][A-Z0-9]{2,}$")


def _deployed(release: Release) -> str:
    who = release.deployed_by or ""
    # A Slack user, or a pipeline named through the API ("ci-pipeline"), shown as text.
    by = f" by <@{who}>" if _USER_ID.match(who) else (f" by {escape(who)}" if who else "")
    at = f" {when(release.deployed_at)}" if release.deployed_at else ""
    return f":rocket: *Deployed*{at}{by}"


def _rolled_back(view: ReleaseView) -> list[str]:
    decided = view.monitoring.rollback if view.monitoring else None
    if decided is None:
        return []
    return [f":leftwards_arrow_with_hook: *Rolled back* by <@{decided.user}> {when(decided.at)}"]


def _deployment(view: ReleaseView) -> list[Block]:
    if view.release.state not in SHIPPED:
        return []
    lines = [*_rolled_back(view), _deployed(view.release), *post_deploy_lines(view)]
    return [section("\n".join(lines))]


def _deploy_button(release: Release) -> dict[str, Any]:
    element = button("Mark deployed", ids.DEPLOYED, ids.Ref(r=release.id).encode(), style="primary")
    element["confirm"] = {
        "title": plain("Mark deployed?"),
        "text": plain(
            f"{release.name} is in production now: this records it and starts "
            "post-deployment monitoring.",
            300,
        ),
        "confirm": plain("Mark deployed"),
        "deny": plain("Cancel"),
    }
    return element


def _actions(view: ReleaseView) -> list[Block]:
    release = view.release
    if not release.state.active:
        return []
    ref = ids.Ref(r=release.id)
    elements: list[dict[str, Any]] = []
    if release.state is ReleaseState.APPROVED and view.authorization.approved:
        elements.append(_deploy_button(release))
    if any(isinstance(r, ChangeFreeze) for r in view.authorization.reasons):
        elements.append(button("Deploy during freeze…", ids.FREEZE_EXCEPTION, ref.encode()))
    if release.state is ReleaseState.OPEN:
        # The final approval is the primary action once it can be given, not before.
        others = all(p.complete for p in view.roles if not p.role.final)
        final_now = others and view.readiness.blocking_pass
        for progress in view.open_roles:
            elements.append(
                button(
                    f"Sign as {progress.role.title}",
                    ids.SIGN_PREFIX + progress.role_id,
                    ids.Ref(r=release.id, role=progress.role_id).encode(),
                    style="primary" if progress.role.final and final_now else None,
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


SLACK_USER = re.compile(r"^[UW][A-Z0-9]{2,}$")
MAX_GATES = 5  # waiting jobs shown on a card; the rest are "…and N more"


def _gate(gate: Gate) -> str:
    """One GitHub Actions job waiting on the release, and what it was answered."""
    where = f"{escape(gate.repository)} → {escape(gate.environment)} (<{gate.run_url}|run>)"
    if gate.refused:
        return f":warning: GitHub refused the answer for {where}: {escape(gate.refused)}"
    if gate.verdict is None:
        return f":hourglass_flowing_sand: GitHub Actions is waiting: {where}"
    approved = gate.verdict is Verdict.APPROVED
    mark, said = (":white_check_mark:", "approved") if approved else (":x:", "rejected")
    pending = "" if gate.sent_at else " (sending to GitHub)"
    return f"{mark} Readiness {said}{pending}: {where}"


def card(view: ReleaseView, with_actions: bool = True) -> list[Block]:
    release = view.release
    meta = [escape(view.product)]
    if release.ref:
        meta.append(f"ref `{escape(release.ref)}`")
    opener = release.created_by
    opener = f"<@{opener}>" if SLACK_USER.match(opener) else escape(opener)
    meta.append(f"opened by {opener} {when(release.created_at)}")
    blocks: list[Block] = [
        header(f"{release.name} · production readiness"),
        context(" · ".join(meta)),
    ]
    if view.gates:
        lines = [_gate(g) for g in view.gates[:MAX_GATES]]
        if len(view.gates) > MAX_GATES:
            lines.append(f"…and {len(view.gates) - MAX_GATES} more GitHub Actions jobs")
        blocks.append(context("\n".join(lines)))
    blocks += _summary(view)
    blocks.append(divider())
    blocks += _roles(view)
    blocks.append(divider())
    blocks += _authorization(view)
    blocks += _deployment(view)
    if with_actions:
        blocks += _actions(view)
    return blocks
