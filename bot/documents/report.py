"""The checklist as a terminal table or JSON: what `readiness check` prints."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from rich.console import Console
from rich.table import Table
from rich.text import Text

from bot.documents.json_export import item_status, item_waiver
from bot.documents.markup import stamp
from bot.domain.model import ItemStatus
from bot.domain.readiness import ItemView, Readiness

STYLE = {
    ItemStatus.PASS: "green",
    ItemStatus.FAIL: "bold red",
    ItemStatus.ERROR: "yellow",
    ItemStatus.PENDING: "dim",
}
WAIVED_STYLE = "magenta"  # counted as passing by a waiver in force: never shown as passing


@dataclass(frozen=True)
class CheckReport:
    """One `readiness check`: the readiness it found and the items it judges."""

    readiness: Readiness
    release: str | None = None  # None: the checklist alone, without a release's ticks
    section: str | None = None
    durations: dict[str, float] = field(default_factory=dict)  # item id -> ms, of this run
    values: dict[str, dict[str, Any]] = field(default_factory=dict)

    @property
    def items(self) -> list[ItemView]:
        return [
            view
            for progress in self.readiness.sections
            if self.section in (None, progress.section.id)
            for view in progress.items
        ]

    @property
    def judged(self) -> list[ItemView]:
        """Items that decide the exit status: every blocking one for a release; without a
        release, manual items can't be ticked, so only the automated ones."""
        return [
            view
            for view in self.items
            if view.item.blocking and (self.release is not None or view.item.automated)
        ]

    @property
    def ok(self) -> bool:
        return all(view.passing for view in self.judged)

    @property
    def percent(self) -> int:
        """The readiness of what was checked: the whole checklist's, or with a section, the
        section's own (weights of its passing items over its weights, rounded down, as
        `bot/domain/readiness.py` computes the whole checklist's)."""
        if self.section is None:
            return self.readiness.percent
        total = sum(view.item.weight for view in self.items)
        passed = sum(view.item.weight for view in self.items if view.passing)
        return 100 if total == 0 else (100 * passed) // total

    def summary(self) -> str:
        failing = [view for view in self.judged if not view.passing]
        scope = f"release {self.release}" if self.release else "checklist, no release"
        figure = f"Readiness {self.percent}%"
        if self.section:
            passed = sum(1 for view in self.items if view.passing)
            figure += f" of section {self.section}"
            scope = f"{passed}/{len(self.items)} items pass; {scope}"
        waived = sum(1 for view in self.judged if view.waived)
        verdict = (
            f"{len(failing)} blocking item(s) not passing"
            if failing
            else f"every blocking item passes or is waived ({waived} waived)"
            if waived
            else "every blocking item passes"
        )
        note = "" if self.release else "; manual items are ticked in Slack and not judged here"
        return f"{figure} ({scope}): {verdict}{note}."

    def as_json(self) -> dict[str, Any]:
        return {
            "release": self.release,
            "section": self.section,
            "readiness": self.percent,  # the section's own with --section
            "ok": self.ok,
            "items": [
                {
                    "section": view.section_id,
                    "id": view.item.id,
                    "title": view.item.title,
                    "automated": view.item.automated,
                    "blocking": view.item.blocking,
                    "status": item_status(view),  # `waived` while a waiver counts it
                    "latest": view.status.value,
                    "reason": view.reason,
                    "at": view.at.isoformat() if view.at else None,
                    "waiver": item_waiver(view.waiver if view.waived else None),
                    "duration_ms": self.durations.get(view.item.id),
                    "values": self.values.get(view.item.id, {}),
                }
                for view in self.items
            ],
        }


def render_table(report: CheckReport, console: Console) -> None:
    titles = {p.section.id: p.section.title for p in report.readiness.sections}
    table = Table(show_lines=False, expand=False, pad_edge=False)
    table.add_column("Section", overflow="fold", max_width=30)
    table.add_column("Item", overflow="fold", max_width=40)
    table.add_column("Status", no_wrap=True)
    table.add_column("Reason", overflow="fold")
    table.add_column("Duration", justify="right", no_wrap=True)
    previous = None
    for view in report.items:
        section = titles[view.section_id] if view.section_id != previous else ""
        previous = view.section_id
        status = view.status.value if view.item.automated else _manual(view)
        style, reason = STYLE[view.status], view.reason or ""
        if view.waived and view.waiver is not None:
            waiver = view.waiver
            status, style = "waived", WAIVED_STYLE
            reason = (
                f"by {waiver.decided_by} until {stamp(waiver.expires_at)}: {waiver.reason}; "
                f"latest {view.status.value}: {reason}"
            )
        if not view.item.blocking:
            status += " (non-blocking)"
        ms = report.durations.get(view.item.id)
        table.add_row(
            section,
            view.item.title,
            Text(status, style=style),
            reason,
            f"{ms:,.0f} ms" if ms is not None else "",
        )
    console.print(table)
    console.print(Text(report.summary(), style="bold green" if report.ok else "bold red"))


def _manual(view: ItemView) -> str:
    return "ticked" if view.status is ItemStatus.PASS else "manual"
