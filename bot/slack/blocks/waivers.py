"""Waivers as Slack shows them: a waived item's line, the card's waivers, the request in
the thread with its buttons, and the forms that ask for one and deny one."""

from __future__ import annotations

from typing import Any

from bot.domain.checklist import AppConfig, Item
from bot.domain.notices import WaiverRequested
from bot.domain.readiness import ItemView
from bot.domain.signoff import MAX_REASON
from bot.domain.view import ReleaseView
from bot.domain.waivers import Waiver, WaiverState
from bot.slack import ids
from bot.slack.blocks.common import Block, button, context, plain, section
from bot.slack.blocks.modals import _modal, _text_input
from bot.slack.blocks.text import clip, escape, mrkdwn, when
from checks.durations import format_duration

WAIVED_ICON = ":large_blue_diamond:"
MAX_WAIVED_SHOWN = 6  # waived items on the card before "…and N more"
MAX_WHY = 300  # characters of a waiver's reason on the card


def waived_line(view: ItemView, bold: bool = False) -> str:
    """A waived item: waived by whom, until when, why, and its latest result."""
    waiver = view.waiver
    assert waiver is not None and waiver.expires_at is not None
    title = f"*{escape(view.item.title)}*" if bold else escape(view.item.title)
    latest = view.status.value + (f": {view.reason}" if view.reason else "")
    return (
        f"{WAIVED_ICON} {title}: *waived* by <@{waiver.decided_by}> until "
        f"{when(waiver.expires_at)}: {clip(escape(waiver.reason), MAX_WHY)} "
        f"_(latest: {clip(escape(latest), 200)})_"
    )


def _moot_line(waiver: Waiver, item: ItemView | None) -> str:
    """A waiver in force that counts for nothing now: its item passes (or is gone)."""
    title = escape(item.item.title if item is not None else waiver.item_title or waiver.item_id)
    until = when(waiver.expires_at) if waiver.expires_at else ""
    now = "it passes again" if item is not None else "it is no longer on the checklist"
    return (
        f"{WAIVED_ICON} {title}: waiver by <@{waiver.decided_by}> until {until}, not counted: {now}"
    )


def card_blocks(view: ReleaseView) -> list[Block]:
    """The card's waived items (each with Withdraw waiver, for its grantor, while the
    release is before deployment), and the requests waiting for an answer."""
    active = view.release.state.active
    items = {v.item.id: v for v in view.readiness.items}
    shown: list[tuple[str, Waiver]] = [
        (waived_line(v), v.waiver) for v in view.readiness.items if v.waiver is not None
    ]
    if active:  # in force on an item that passes again: its grantor may withdraw it
        shown += [
            (_moot_line(w, items.get(w.item_id)), w)
            for w in view.in_force
            if w.item_id not in items or not items[w.item_id].waived
        ]
    blocks: list[Block] = [section("*Waived:*")] if shown else []
    for line, waiver in shown[:MAX_WAIVED_SHOWN]:
        if active:
            value = ids.Ref(r=view.release.id, w=waiver.id).encode()
            withdraw = button("Withdraw waiver", ids.WAIVER_WITHDRAW, value)
            blocks.append(section(line, accessory=withdraw))
        else:
            blocks.append(section(line))
    if len(shown) > MAX_WAIVED_SHOWN:
        blocks.append(context(f"…and {len(shown) - MAX_WAIVED_SHOWN} more (see Checklist)"))
    asked = [w for w in view.waivers if w.state is WaiverState.REQUESTED]
    if asked and active:
        said = [
            f":hourglass_flowing_sand: Waiver of {escape(w.item_title or w.item_id)} for "
            f"{format_duration(w.duration)} asked by <@{w.requested_by}>: waiting for an answer "
            "in the thread"
            for w in asked[:MAX_WAIVED_SHOWN]
        ]
        if len(asked) > MAX_WAIVED_SHOWN:
            said.append(f"…and {len(asked) - MAX_WAIVED_SHOWN} more")
        blocks.append(context("\n".join(said)))
    return blocks


def _outcome(waiver: Waiver) -> str:
    by = f"<@{waiver.decided_by}>"
    if waiver.state is WaiverState.DENIED:
        return f":no_entry: Denied by {by}: {clip(escape(waiver.denial or ''), MAX_REASON)}"
    until = when(waiver.expires_at) if waiver.expires_at else ""
    granted = f":white_check_mark: Granted by {by}, until {until}"
    if waiver.state is WaiverState.WITHDRAWN:
        return f"{granted}; withdrawn by <@{waiver.ended_by}>"
    if waiver.state is WaiverState.EXPIRED:
        return f"{granted}; expired"
    if waiver.state is WaiverState.REF_CHANGED:
        return f"{granted}; ended: the release's ref changed"
    return granted


def request_blocks(
    notice: WaiverRequested, waiver: Waiver | None = None, unanswerable: str | None = None
) -> list[Block]:
    """The request in the thread: Approve and Deny until answered (or UNANSWERABLE, why
    not); then the answer (the card shows a waiver in force, and offers its grantor
    Withdraw waiver)."""
    blocks: list[Block] = [section(f":large_blue_diamond: {mrkdwn(notice.phrase())}")]
    if unanswerable:
        return [*blocks, context(f":x: Unanswered: {escape(unanswerable)}")]
    if waiver is None or waiver.state is WaiverState.REQUESTED:
        value = ids.Ref(r=notice.release, w=notice.waiver).encode()
        deny = button("Deny waiver", ids.WAIVER_DENY, value, style="danger")
        approve = button("Approve waiver", ids.WAIVER_APPROVE, value, style="primary")
        return [*blocks, {"type": "actions", "elements": [approve, deny]}]
    if waiver.state is WaiverState.REF_CHANGED and waiver.decided_by is None:
        return [*blocks, context(":x: Ended unanswered: the release's ref changed")]
    return [*blocks, context(_outcome(waiver))]


def request_modal(app: AppConfig, view: ReleaseView, item: Item) -> dict[str, Any]:
    """Ask to waive ITEM on the release: how long (at most `waivers.max`) and why."""
    longest = format_duration(app.waivers.max)
    roles = ", ".join(app.role_title(r) for r in app.waiver_approvers)
    duration: Block = {
        "type": "input",
        "block_id": ids.DURATION,
        "label": plain("For how long"),
        "hint": plain(f"e.g. 12h or 2d; at most {longest}"),
        "element": {
            "type": "plain_text_input",
            "action_id": ids.VALUE,
            "max_length": 20,
            "placeholder": plain("2d"),
        },
    }
    blocks = [
        section(
            f"Ask to count *{escape(item.title)}* as passing on *{escape(view.release.name)}* "
            f"for a while. Another approver ({escape(roles)}) answers in the card's thread; "
            "the card shows it as waived, never as passing."
        ),
        duration,
        _text_input(ids.REASON, "Reason", MAX_REASON, False, "Why it may fail for now"),
    ]
    ref = ids.Ref(r=view.release.id, i=item.id)
    return _modal(ids.WAIVER_VIEW, "Request waiver", blocks, ref, "Ask")


def deny_modal(view: ReleaseView, waiver: Waiver) -> dict[str, Any]:
    """Deny a waiver request: the reason is required (the request message is redrawn)."""
    blocks = [
        section(
            f"Deny the waiver of *{escape(waiver.item_title or waiver.item_id)}* asked for by "
            f"<@{waiver.requested_by}> on *{escape(view.release.name)}*? Say why."
        ),
        _text_input(ids.REASON, "Reason", MAX_REASON, False, "Why it must pass first"),
    ]
    ref = ids.Ref(r=view.release.id, w=waiver.id)
    return _modal(ids.WAIVER_DENY_VIEW, "Deny waiver", blocks, ref, "Deny")


def notice_modal(title: str, text: str) -> dict[str, Any]:
    """A modal that only says TEXT (mrkdwn): why a form can't open."""
    return _modal(ids.WAIVER_VIEW + "_refused", title, [section(text)], ids.Ref(r=0), None)
