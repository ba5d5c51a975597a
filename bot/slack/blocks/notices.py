"""The notices services queue, as the messages Slack gets: text (mrkdwn, with live
mentions) and, for alerts and digests, blocks."""

from __future__ import annotations

from bot.domain.notices import (
    AlertAnswered,
    BreachAlert,
    DailyReminder,
    Digest,
    Notice,
    Reminder,
    Waiting,
    WaiverRequested,
    WaiverRequestNow,
)
from bot.domain.text import Strong, listed, phrase
from bot.slack.blocks.common import Block, chunk_lines, section
from bot.slack.blocks.monitoring import alert_blocks, digest_blocks
from bot.slack.blocks.text import escape, link, mrkdwn
from bot.slack.blocks.waivers import request_blocks

EMOJI = {
    "plan_recorded": ":clipboard:",
    "rejected": ":no_entry:",
    "approved": ":white_check_mark:",
    "suspended": ":warning:",
    "blocked": ":no_entry:",
    "ref_moved": ":arrows_counterclockwise:",
    "checklist_changed": ":arrows_counterclockwise:",
    "cancelled": ":x:",
    "deployed": ":rocket:",
    "alert": ":rotating_light:",
    "recovered": ":white_check_mark:",
    "monitoring_complete": ":checkered_flag:",
    "waiver_answered": ":large_blue_diamond:",
    "waiver_ended": ":large_blue_diamond:",
}


def _emoji(notice: Notice) -> str | None:
    if isinstance(notice, BreachAlert) and notice.closed_at is not None:
        return ":white_check_mark:"
    if isinstance(notice, AlertAnswered):
        return ":leftwards_arrow_with_hook:" if notice.rollback else ":eyes:"
    if isinstance(notice, Reminder):
        return ":alarm_clock:" if notice.window_start else ":bell:"
    return EMOJI.get(notice.kind)


TEXT_BUDGET = 10_000  # characters of a daily reminder's lines (Slack refuses ~12,000)
NAMES_SHOWN = 5  # releases a person's line names before "and N more"


def _card(name: str, channel: str, ts: str | None) -> str:
    """A release's name, linking to its card when it is posted."""
    if ts is None:
        return f"*{escape(name)}*"
    url = f"https://slack.com/archives/{channel}/p{ts.replace('.', '')}"
    return f"<{link(url)}|*{escape(name)}*>"


def daily_blocks(notice: DailyReminder) -> tuple[str, list[Block]]:
    """Each person (or user group) once, with what waits for them; then each release
    once, linking to its card, with the roles it waits for; then the blocked ones. Under
    a release, each change freeze overlapping its planned window. Within Slack's limits:
    past the budget, "…and N more"."""
    lines: list[str] = []
    frozen: dict[str, list[str]] = {}
    for freeze in notice.freezes:
        frozen.setdefault(freeze.name, []).append(f":warning: {mrkdwn(freeze.phrase())}")
    releases: dict[str, tuple[Waiting, list[str]]] = {}
    for person in notice.people:
        by_role: dict[str, list[str]] = {}
        for w in person.releases:
            by_role.setdefault(w.role, []).append(w.name)
            roles = releases.setdefault(w.name, (w, []))[1]
            if w.role not in roles:
                roles.append(w.role)
        who = mrkdwn(phrase(person.who()))
        for role, names in by_role.items():
            named = mrkdwn(listed([Strong(n) for n in names], NAMES_SHOWN))
            lines.append(f"{who} as {escape(role)}: {named}")
    for name, (w, roles) in releases.items():
        card = _card(name, w.channel, w.card_ts)
        lines.append(f"• {card} {w.readiness}% · waiting for {escape(', '.join(roles))}")
        lines.extend(frozen.pop(name, []))
    for blocked in notice.blocked:
        who = ", ".join(f"<@{u}>" for u in blocked.rejected_by)
        card = _card(blocked.name, blocked.channel, blocked.card_ts)
        lines.append(f":no_entry: {card} is blocked until {who} withdraw(s) the rejection")
        lines.extend(frozen.pop(blocked.name, []))
    lines.extend(line for rest in frozen.values() for line in rest)
    shown, used = [], 0
    for index, line in enumerate(lines):
        if used + len(line) > TEXT_BUDGET:
            shown.append(f"…and {len(lines) - index} more: `/readiness list` shows them all")
            break
        shown.append(line)
        used += len(line) + 1
    count = notice.releases
    text = f":bell: Sign-offs waiting: {count} release{'s' if count != 1 else ''}"
    return text, [section(f"*{text}*"), *[section(t) for t in chunk_lines(shown)]]


def render(notice: Notice | WaiverRequestNow) -> tuple[str, list[Block] | None]:
    """The message's text and blocks (None: the text alone)."""
    if isinstance(notice, WaiverRequestNow):
        said = mrkdwn(notice.request.phrase())
        blocks = request_blocks(notice.request, notice.waiver, notice.unanswerable)
        return f":large_blue_diamond: {said}", blocks
    if isinstance(notice, DailyReminder):
        return daily_blocks(notice)
    text = mrkdwn(notice.phrase())
    if isinstance(notice, Digest):
        return text, digest_blocks(notice)
    if isinstance(notice, WaiverRequested):
        return f":large_blue_diamond: {text}", request_blocks(notice)
    emoji = _emoji(notice)
    if emoji:
        text = f"{emoji} {text}"
    if isinstance(notice, BreachAlert):
        return text, alert_blocks(notice, emoji or "")
    return text, None
