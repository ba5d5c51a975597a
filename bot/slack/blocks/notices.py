"""The notices services queue, as the messages Slack gets: text (mrkdwn, with live
mentions) and, for alerts and digests, blocks."""

from __future__ import annotations

from bot.domain.notices import AlertAnswered, BreachAlert, Digest, Notice, Reminder
from bot.slack.blocks.common import Block
from bot.slack.blocks.monitoring import alert_blocks, digest_blocks
from bot.slack.blocks.text import mrkdwn

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
}


def _emoji(notice: Notice) -> str | None:
    if isinstance(notice, BreachAlert) and notice.closed_at is not None:
        return ":white_check_mark:"
    if isinstance(notice, AlertAnswered):
        return ":leftwards_arrow_with_hook:" if notice.rollback else ":eyes:"
    if isinstance(notice, Reminder):
        return ":alarm_clock:" if notice.window_start else ":bell:"
    return EMOJI.get(notice.kind)


def render(notice: Notice) -> tuple[str, list[Block] | None]:
    """The message's text and blocks (None: the text alone)."""
    text = mrkdwn(notice.phrase())
    if isinstance(notice, Digest):
        return text, digest_blocks(notice)
    emoji = _emoji(notice)
    if emoji:
        text = f"{emoji} {text}"
    if isinstance(notice, BreachAlert):
        return text, alert_blocks(notice, text)
    return text, None
