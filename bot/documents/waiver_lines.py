"""Waivers in the sign-off document: a waived item says so (by whom, until when, why, and
its latest result), never that it passed; section 10 lists every waiver asked for."""

from __future__ import annotations

from collections.abc import Mapping

from bot.documents.json_export import waiver_ended_at, waiver_state
from bot.documents.markup import code, md, quoted, stamp, who
from bot.domain.readiness import ItemView
from bot.domain.view import ReleaseView
from bot.domain.waivers import Waiver, WaiverState
from checks.durations import format_duration


def waived_note(views: list[ItemView]) -> str:
    """How many of these count as passing only by a waiver: never said to pass."""
    waived = sum(1 for v in views if v.waived)
    return f" ({waived} item(s) waived)" if waived else ""


def waived_item(view: ItemView, names: Mapping[str, str]) -> str:
    """What an item line says of an item a waiver in force counts as passing."""
    waiver = view.waiver
    assert waiver is not None, "an item not waived"
    return (
        f"**waived** by {who(waiver.decided_by, names)} until {stamp(waiver.expires_at)}: "
        f"{md(waiver.reason)}; latest **{view.status.value}**: {md(view.reason)}"
    )


def waiver_lines(view: ReleaseView, waiver: Waiver, names: Mapping[str, str]) -> list[str]:
    """One waiver: its state, who asked and why, who answered, and how it ended."""
    state = waiver_state(view, waiver)
    title = md(waiver.item_title or waiver.item_id)
    out = [
        f"- {title} ({code(waiver.item_id)}), for {format_duration(waiver.duration)}: "
        f"**{state.value.replace('_', ' ')}**",
        f"  - Asked by {who(waiver.requested_by, names)}, {stamp(waiver.requested_at)}:",
        *quoted(waiver.reason, "    "),
    ]
    if waiver.decided_by is None:
        out.append(
            "  - Not answered yet." if state is WaiverState.REQUESTED else "  - Not answered."
        )
    elif state is WaiverState.DENIED:
        out.append(f"  - Denied by {who(waiver.decided_by, names)}, {stamp(waiver.decided_at)}:")
        out += quoted(waiver.denial or "", "    ")
    else:
        out.append(
            f"  - Granted by {who(waiver.decided_by, names)}, {stamp(waiver.decided_at)}, "
            f"until {stamp(waiver.expires_at)}"
        )
    ended = stamp(waiver_ended_at(view, waiver))
    if state is WaiverState.EXPIRED:
        out.append(f"  - Expired {ended}: the item counts by its latest result again.")
    elif state is WaiverState.WITHDRAWN:
        out.append(f"  - Withdrawn by {who(waiver.ended_by, names)}, {ended}.")
    elif state is WaiverState.REF_CHANGED:
        out.append(f"  - Ended {ended}: the release's ref changed.")
    return out
