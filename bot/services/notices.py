"""Small pieces of the thread messages services queue: dates, windows, mentions."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from bot.domain.authorization import DeploymentPlan
from bot.domain.reminders import PendingRole
from bot.text import escape


def slack_date(at: datetime) -> str:
    """A date Slack shows in each reader's own time zone (UTC where it can't)."""
    fallback = at.strftime("%Y-%m-%d %H:%M UTC")
    return f"<!date^{int(at.timestamp())}^{{date_short_pretty}} {{time}}|{fallback}>"


def window_text(start: datetime, end: datetime) -> str:
    return f"{slack_date(start)} – {slack_date(end)}"


def plan_summary(plan: DeploymentPlan) -> str:
    """The thread's note of what the final approval recorded (the card has the plan)."""
    parts = []
    if plan.window_start and plan.window_end:
        parts.append(f"Deployment window: {window_text(plan.window_start, plan.window_end)}")
    if plan.team:
        parts.append("team: " + ", ".join(f"<@{user}>" for user in plan.team))
    return ":clipboard: " + " · ".join(parts) + "."


def mentions(pending: PendingRole) -> str:
    """The role's members who may still sign, and its user groups, as mentions."""
    people = [f"<@{user}>" for user in pending.members]
    groups = [f"<!subteam^{group}>" for group in pending.usergroups]
    return " ".join(people + groups)


def pending_text(pending: Sequence[PendingRole]) -> str:
    """`*Security Lead* <@U1>, …; then the final approval by *CTO* (waiting for the others)`.

    Only those who can act now are mentioned; the final approver's turn comes after.
    """
    now = [p for p in pending if p.can_act]
    later = [p for p in pending if not p.can_act]

    def one(p: PendingRole, mention: bool) -> str:
        need = f" ({p.missing} more signatures)" if p.missing > 1 else ""
        who = mentions(p) if mention else ""
        return f"*{escape(p.role.title)}*{need}" + (f" {who}" if who else "")

    text = ", ".join(one(p, True) for p in now)
    if later:
        then = ", ".join(one(p, False) for p in later)
        text = f"{text}; then the final approval by {then}" if text else then
    return text
