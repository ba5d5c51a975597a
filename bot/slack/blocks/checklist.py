"""The Checklist modal: the viewer's own items first (what they tick, what is failing), a
section picker for the rest; only the items a person may tick are checkboxes."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from bot.domain.checklist import AppConfig
from bot.domain.model import ItemStatus
from bot.domain.readiness import ItemView, SectionProgress
from bot.domain.signoff import is_approver, may_tick
from bot.domain.text import stamp
from bot.domain.view import ReleaseView
from bot.slack import ids
from bot.slack.blocks.common import (
    STATUS_ICON,
    Block,
    button,
    chunk_lines,
    context,
    header,
    option,
    plain,
    section,
)
from bot.slack.blocks.text import clip, escape, link, when
from bot.slack.blocks.waivers import WAIVED_ICON, waived_line

MINE = "mine"  # the page of the viewer's own items
CHECKBOXES_PER_BLOCK = 10  # Block Kit's limit for one checkboxes element
MAX_BLOCKS = 100  # a modal's
LEGEND = (
    ":white_check_mark: pass  :x: fail  :warning: error  :white_circle: pending  "
    f"{WAIVED_ICON} waived"
)


def _automated_line(item: ItemView) -> str:
    if item.waived:
        return waived_line(item, bold=True)
    line = f"{STATUS_ICON[item.status]} *{escape(item.item.title)}*"
    if not item.item.blocking:
        line += " _(non-blocking)_"
    if item.reason:
        line += f"\n      {clip(escape(item.reason), 500)}"
    if item.at:
        line += f" · checked {when(item.at)}"
    if item.changed_at and item.at and item.changed_at < item.at:
        line += f" · {item.status.value} since {when(item.changed_at)}"
    if item.url:
        line += f" · <{link(item.url)}|CI run>"
    return line


def _manual_line(item: ItemView, titles: dict[str, str]) -> str:
    """A manual item someone else ticks, read-only: its state, and who ticks it."""
    if item.waived:
        return waived_line(item)
    line = f"{STATUS_ICON[item.status]} {escape(item.item.title)}"
    if item.by and item.at:
        return line + f" · ticked by <@{item.by}> {when(item.at)}"
    owner = titles.get(item.item.owner or "", "any approver")
    return line + f" · _{escape(owner)} ticks it_"


def _checkboxes(section_id: str, items: Sequence[ItemView], titles: dict[str, str]) -> list[Block]:
    """The items this person ticks, ten to a block (an actions block: no "(optional)")."""
    blocks: list[Block] = []
    for start in range(0, len(items), CHECKBOXES_PER_BLOCK):
        chunk = items[start : start + CHECKBOXES_PER_BLOCK]
        options = []
        for i in chunk:
            said = f"Ticked {stamp(i.at)}" if i.by and i.at else None
            if not said:
                said = "Yours to tick as " + titles.get(i.item.owner or "", "an approver")
            options.append(option(i.item.title, i.item.id, said))
        element: dict[str, Any] = {"type": "checkboxes", "action_id": ids.VALUE, "options": options}
        ticked = [o for o, i in zip(options, chunk, strict=True) if i.status is ItemStatus.PASS]
        if ticked:
            element["initial_options"] = ticked
        block_id = f"{ids.MANUAL_PREFIX}{section_id}:{start // CHECKBOXES_PER_BLOCK}"
        blocks.append({"type": "actions", "block_id": block_id, "elements": [element]})
    return blocks


def _picker(view: ReleaseView, page: str) -> Block:
    options = [option("Your items", MINE)] + [
        option(f"{p.section.title}  {p.passed}/{p.total}", p.section.id)
        for p in view.readiness.sections
    ]
    chosen = next((o for o in options if o["value"] == page), options[0])
    return {
        "type": "actions",
        "block_id": ids.CHECKLIST_SECTION,
        "elements": [
            {
                "type": "static_select",
                "action_id": ids.CHECKLIST_SECTION,
                "placeholder": plain("Show a section"),
                "options": options,
                "initial_option": chosen,
            }
        ],
    }


def waivable(item: ItemView) -> bool:
    """A failing item a waiver may be asked for."""
    failing = item.status in (ItemStatus.FAIL, ItemStatus.ERROR)
    return failing and item.item.waivable and not item.waived


def _waivable_block(release_id: int, item: ItemView) -> Block:
    """A failing item with its Request waiver… button."""
    ask = button("Request waiver…", ids.WAIVER_ASK, ids.Ref(r=release_id, i=item.item.id).encode())
    return section(_automated_line(item), accessory=ask)


def _section_blocks(
    progress: SectionProgress,
    items: Sequence[ItemView],
    tickable: set[str],
    titles: dict[str, str],
    editable: bool,
    ask: int | None = None,
    asked: frozenset[str] = frozenset(),
) -> list[Block]:
    """ASK: the release whose failing items offer Request waiver… (None: they don't),
    but those ASKED for already."""
    automated = [i for i in items if i.item.automated]
    mine = [i for i in items if i.item.id in tickable and editable]
    others = [i for i in items if not i.item.automated and i not in mine]
    blocks: list[Block] = [header(f"{progress.section.title}  {progress.passed}/{progress.total}")]
    lines: list[str] = []
    for item in automated:
        if ask is not None and waivable(item) and item.item.id not in asked:
            blocks += [section(text) for text in chunk_lines(lines)]
            blocks.append(_waivable_block(ask, item))
            lines = []
        else:
            lines.append(_automated_line(item))
    blocks += [section(text) for text in chunk_lines(lines)]
    blocks += _checkboxes(progress.section.id, mine, titles)
    blocks += [section(t) for t in chunk_lines([_manual_line(i, titles) for i in others])]
    return blocks


def checklist_modal(
    app: AppConfig,
    view: ReleaseView,
    held: frozenset[str],
    page: str = MINE,
    problem: str | None = None,
) -> dict[str, Any]:
    """The Checklist for someone holding HELD roles. PAGE `mine`: the manual items they
    tick and the blocking items not passing, section by section; a section id: that
    section's every item. Only their own items are checkboxes, and only while the
    release is still before deployment."""
    editable = view.release.state.active
    titles = {role_id: role.title for role_id, role in app.roles.items()}
    tickable = {v.item.id for v in view.readiness.items if may_tick(app, v.item, held)}
    asked = frozenset(w.item_id for w in view.waivers if w.state.open)
    ask = view.release.id if editable and is_approver(app, held) else None
    blocks: list[Block] = [
        context(f"*{escape(view.release.name)}* · readiness {view.readiness.percent}% · {LEGEND}"),
        _picker(view, page),
    ]
    if problem:
        blocks.append(section(f":warning: {escape(problem)}"))
    if editable:
        blocks.append(context("Save your ticks before you pick another section."))
    for progress in view.readiness.sections:
        if page == MINE:
            items = [
                v
                for v in progress.items
                if (v.item.id in tickable and editable)
                or (v.item.blocking and v.status in (ItemStatus.FAIL, ItemStatus.ERROR))
            ]
        elif page == progress.section.id:
            items = list(progress.items)
        else:
            continue
        if items:
            blocks += _section_blocks(progress, items, tickable, titles, editable, ask, asked)
    if len(blocks) == 2 + bool(problem) + editable:
        blocks.append(
            section("Nothing here is yours to tick, and nothing blocking is failing.")
            if page == MINE
            else section("This section has no items.")
        )
    if len(blocks) > MAX_BLOCKS:
        blocks = [*blocks[: MAX_BLOCKS - 1], context("…and more: pick a section to see all.")]
    checkboxes = any(str(b.get("block_id", "")).startswith(ids.MANUAL_PREFIX) for b in blocks)
    modal: dict[str, Any] = {
        "type": "modal",
        "callback_id": ids.CHECKLIST_VIEW,
        "title": plain("Checklist", 24),
        "close": plain("Cancel" if checkboxes else "Close", 24),
        "blocks": blocks,
        "private_metadata": ids.Ref(r=view.release.id, s=page).encode(),
    }
    if checkboxes:
        modal["submit"] = plain("Save", 24)
    return modal
