"""Post-deployment messages: a breach's alert with its buttons, a phase's digest."""

from __future__ import annotations

from datetime import datetime

from bot.domain.model import ItemStatus
from bot.domain.notices import AlertLine, BreachAlert, Digest
from bot.domain.text import truncate
from bot.slack import ids
from bot.slack.blocks.common import (
    STATUS_ICON,
    Block,
    button,
    chunk_lines,
    context,
    header,
    plain,
    section,
)
from bot.slack.blocks.text import escape, mrkdwn, when

MAX_ALERT_LINES = 20  # items an alert lists before "…and N more"


def _buttons(alert: BreachAlert) -> list[Block]:
    """Acknowledge until someone does; Roll back until someone decides it; none once the
    breach is over or rolled back."""
    if alert.closed_at is not None or alert.rolled_back_by:
        return []
    value = ids.Ref(r=alert.release, m=alert.message).encode()
    rollback = button("Roll back", ids.ALERT_ROLLBACK, value, style="danger")
    rollback["confirm"] = {
        "title": plain("Roll back?"),
        "text": plain(
            "This records the decision and posts the rollback plan in this thread. "
            "It does not run anything.",
            300,
        ),
        "confirm": plain("Roll back"),
        "deny": plain("Cancel"),
        "style": "danger",
    }
    elements = [] if alert.acknowledged_by else [button("Acknowledge", ids.ALERT_ACK, value)]
    return [{"type": "actions", "elements": [*elements, rollback]}]


def _line(line: AlertLine) -> str:
    title = escape(line.title)
    if line.recovered_at is not None:
        return f":white_check_mark: *{title}*: recovered {when(line.recovered_at)}"
    icon = ":x:" if line.failing else ":warning:"
    return f"{icon} *{title}*: {escape(truncate(line.reason, 300))} · since {when(line.opened_at)}"


def alert_blocks(alert: BreachAlert, emoji: str) -> list[Block]:
    """The breach's one message: what fails (and what recovered), whom it calls, who
    answered, and the decisions still open."""
    listed = len(alert.lines) > 1 or alert.closed_at is not None
    # With the lines below naming each item, the headline need not.
    said = alert.headline() if listed else alert.phrase()
    blocks: list[Block] = [section(f"{emoji} {mrkdwn(said)}")]
    if listed:
        lines = [_line(line) for line in alert.lines[:MAX_ALERT_LINES]]
        if len(alert.lines) > MAX_ALERT_LINES:
            lines.append(f"…and {len(alert.lines) - MAX_ALERT_LINES} more")
        blocks += [section(t) for t in chunk_lines(lines)]
    answers = []
    if alert.acknowledged_by and alert.acknowledged_at:
        answers.append(f"Acknowledged by <@{alert.acknowledged_by}> {when(alert.acknowledged_at)}")
    if alert.rolled_back_by and alert.rolled_back_at:
        answers.append(
            f"Roll back decided by <@{alert.rolled_back_by}> {when(alert.rolled_back_at)}"
        )
    if answers:
        blocks.append(context(" · ".join(answers)))
    return blocks + _buttons(alert)


def _at(at: datetime | None) -> str:
    return when(at) if at else ""


def digest_blocks(digest: Digest) -> list[Block]:
    """Every item's state over the phase, the breaches and their answers, what comes next."""
    late = " (late)" if digest.late else ""
    blocks: list[Block] = [
        header(f"{digest.title} digest{late}"),
        context(
            f"*{escape(digest.name)}* · {_at(digest.start)} – {_at(digest.end)}"
            + (" · posted after the bot was back up" if digest.late else "")
        ),
    ]
    lines = []
    for item in digest.items:
        if item.manual:
            lines.append(
                f"{STATUS_ICON[ItemStatus.PENDING]} *{escape(item.title)}*: "
                "a person's judgement, not checked by Readiness"
            )
            continue
        runs, passed = item.runs, item.passed
        if not runs:
            icon = STATUS_ICON[ItemStatus.PENDING]
        elif passed == runs:
            icon = STATUS_ICON[ItemStatus.PASS]
        else:
            icon = STATUS_ICON[ItemStatus.FAIL]
        figure = f" · {escape(item.worst)}" if item.worst else ""
        line = f"{icon} *{escape(item.title)}*: {passed}/{runs} runs passed{figure}"
        if runs and passed < runs and item.last_reason:
            line += f"\n      last: {escape(truncate(item.last_reason, 200))}"
        lines.append(line)
    blocks += [section(text) for text in chunk_lines(lines)]
    breaches = []
    for breach in digest.breaches:
        answer = []
        if breach.acknowledged_by:
            answer.append(f"acknowledged by <@{breach.acknowledged_by}>")
        if breach.rolled_back_by:
            answer.append(f"roll back decided by <@{breach.rolled_back_by}>")
        recovered = (
            f"recovered {_at(breach.recovered_at)}" if breach.recovered_at else "*still failing*"
        )
        breaches.append(
            f"• *{escape(breach.item)}* from {_at(breach.opened_at)}, {recovered}"
            + (f"; {', '.join(answer)}" if answer else "; not acknowledged")
        )
    if breaches:
        blocks += [section(text) for text in chunk_lines(["*Breaches*", *breaches])]
    else:
        blocks.append(context("No breaches in this phase."))
    following = digest.next
    blocks.append(
        context(
            f"Next: {escape(following)}." if following else "Post-deployment monitoring complete."
        )
    )
    return blocks[:50]
