"""Readiness: each item's state, each section's progress, and the percentage."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime

from bot.domain.checklist import AppConfig, Item, Section
from bot.domain.model import ItemStatus, LatestResult, Tick
from bot.domain.waivers import Waiver


@dataclass(frozen=True)
class ItemView:
    item: Item
    section_id: str
    status: ItemStatus
    reason: str | None = None
    at: datetime | None = None
    by: str | None = None  # who ticked a manual item
    changed_at: datetime | None = None  # automated: since when it has had this status
    url: str | None = None  # a pushed result's CI run
    waiver: Waiver | None = None  # in force: it counts as passing, and is shown as waived

    @property
    def passing(self) -> bool:
        """It counts as passing: it passes, or a waiver in force says it may fail."""
        return self.status is ItemStatus.PASS or self.waiver is not None

    @property
    def waived(self) -> bool:
        """Not passing, but a waiver in force counts it so (shown as waived, never passing)."""
        return self.waiver is not None and self.status is not ItemStatus.PASS


@dataclass(frozen=True)
class SectionProgress:
    section: Section
    items: tuple[ItemView, ...]

    @property
    def passed(self) -> int:
        return sum(1 for view in self.items if view.passing)

    @property
    def total(self) -> int:
        return len(self.items)

    @property
    def complete(self) -> bool:
        return self.passed == self.total


@dataclass(frozen=True)
class Readiness:
    percent: int
    sections: tuple[SectionProgress, ...]

    @property
    def items(self) -> list[ItemView]:
        return [view for section in self.sections for view in section.items]

    @property
    def blocking_not_passing(self) -> list[ItemView]:
        return [view for view in self.items if view.item.blocking and not view.passing]

    @property
    def blocking_pass(self) -> bool:
        return not self.blocking_not_passing


def item_view(
    item: Item,
    section_id: str,
    result: LatestResult | None,
    tick: Tick | None,
    waiver: Waiver | None = None,
) -> ItemView:
    view = _judged(item, section_id, result, tick)
    if waiver is not None and view.status is not ItemStatus.PASS:
        return replace(view, waiver=waiver)
    return view


def _judged(
    item: Item, section_id: str, result: LatestResult | None, tick: Tick | None
) -> ItemView:
    if item.automated:
        if result is None:
            return ItemView(item, section_id, ItemStatus.PENDING, "not checked yet")
        return ItemView(
            item,
            section_id,
            result.status,
            result.reason,
            result.at,
            changed_at=result.changed_at,
            url=result.url,
        )
    if tick is None:
        return ItemView(item, section_id, ItemStatus.PENDING, "not ticked yet")
    return ItemView(item, section_id, ItemStatus.PASS, "ticked", tick.at, tick.user_id)


def assess(
    app: AppConfig,
    results: Mapping[str, LatestResult],
    ticks: Mapping[str, Tick],
    waivers: Mapping[str, Waiver] | None = None,
) -> Readiness:
    """Weights of passing items over all weights, rounded down: 100 means every item passes
    (WAIVERS: those in force, by item id, count their items as passing)."""
    waivers = waivers or {}
    sections = tuple(
        SectionProgress(
            section,
            tuple(
                item_view(
                    item,
                    section.id,
                    results.get(item.id),
                    ticks.get(item.id),
                    waivers.get(item.id),
                )
                for item in section.items
            ),
        )
        for section in app.sections
    )
    views = [view for progress in sections for view in progress.items]
    total = sum(view.item.weight for view in views)
    passed = sum(view.item.weight for view in views if view.passing)
    percent = 100 if total == 0 else (100 * passed) // total
    return Readiness(percent, sections)
