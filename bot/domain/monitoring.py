"""Post-deployment monitoring as pure rules: the phases' timeline, what is due, the digest."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from bot.domain.checklist import AppConfig, Item, Phase
from bot.domain.model import ItemStatus, Release
from bot.domain.notices import AlertLine, BreachAlert, Digest, DigestBreachLine, DigestLine
from bot.domain.units import quantity


@dataclass(frozen=True)
class PhaseWindow:
    phase: Phase
    index: int
    start: datetime
    end: datetime

    @property
    def digest_key(self) -> str:
        return f"digest:{self.phase.id}"


def timeline(phases: Sequence[Phase], deployed_at: datetime) -> list[PhaseWindow]:
    """The phases one after the other, from the moment of deployment."""
    windows, start = [], deployed_at
    for index, phase in enumerate(phases):
        windows.append(PhaseWindow(phase, index, start, start + phase.duration))
        start += phase.duration
    return windows


@dataclass(frozen=True)
class MonitoringStatus:
    """Where a deployed release's monitoring stands: each phase (its digest posted or not)
    and the items breaching now."""

    phases: tuple[tuple[PhaseWindow, bool], ...]
    breaching: tuple[str, ...] = ()  # titles of the items with an open alert
    rollback: Decision | None = None  # the decision to roll back, once taken


@dataclass(frozen=True)
class Decision:
    """Someone's answer to an alert: who, and when."""

    user: str
    at: datetime


def current(windows: Sequence[PhaseWindow], now: datetime) -> PhaseWindow | None:
    return next((w for w in windows if w.start <= now < w.end), None)


def due_slot(window: PhaseWindow, now: datetime) -> int:
    """A phase runs at its start and then every `every`: the slot due now. Slots missed while
    the bot was down coalesce into the latest one."""
    return int((now - window.start) / window.phase.every)


def run_key(window: PhaseWindow, slot: int) -> str:
    return f"run:{window.phase.id}:{slot}"


def digests_due(
    windows: Sequence[PhaseWindow], posted: set[str], now: datetime
) -> list[PhaseWindow]:
    """Ended phases whose digest is not posted yet, in order."""
    return [w for w in windows if w.end <= now and w.digest_key not in posted]


def is_late(window: PhaseWindow, now: datetime, grace: timedelta) -> bool:
    return now - window.end > grace


@dataclass(frozen=True)
class Observation:
    """One post-deploy result."""

    item_id: str
    status: ItemStatus
    reason: str
    values: dict[str, Any]
    at: datetime


@dataclass(frozen=True)
class Breach:
    """A post-deploy item breaching, as recorded (an alert): opened by a failing run,
    closed by recovery, answered by a responder."""

    item_id: str
    opened_at: datetime
    reason: str
    recovered_at: datetime | None = None
    acknowledged_by: str | None = None
    rolled_back_by: str | None = None
    id: int = 0  # the alert's id
    release_id: int = 0
    phase: str = ""  # the phase it opened in
    message_id: int | None = None  # the breach's message it is listed in
    status: str = "fail"  # its first failing run's: fail, or error (could not be checked)


@dataclass(frozen=True)
class ItemSummary:
    item: Item
    runs: int
    passed: int
    worst: str | None  # the worst value seen, in words ("highest 0.0004", "p95 212 ms")
    last: Observation | None

    @property
    def healthy(self) -> bool:
        return self.runs > 0 and self.passed == self.runs


@dataclass(frozen=True)
class AlertMessage:
    """One breach of a release's post-deploy items, as its one message in the thread
    shows it: every item that failed during it (recovered or not), whom it called, and
    its answers. It closes when every item passes again."""

    id: int
    release_id: int
    phase: str  # the phase it opened in
    responders: tuple[str, ...]
    opened_at: datetime
    breaches: tuple[Breach, ...] = ()
    closed_at: datetime | None = None
    acknowledged: Decision | None = None
    rolled_back: Decision | None = None

    @property
    def failing(self) -> list[Breach]:
        return [b for b in self.breaches if b.recovered_at is None]


@dataclass(frozen=True)
class PhaseDigest:
    window: PhaseWindow
    items: tuple[ItemSummary, ...]
    breaches: tuple[Breach, ...]
    next_phase: Phase | None
    late: bool = False

    @property
    def healthy(self) -> bool:
        return all(s.healthy for s in self.items) and not self.breaches


def _number(value: Any) -> float | None:
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def worst_value(item: Item, observations: Sequence[Observation]) -> str | None:
    """The worst figure a phase saw for an item: the highest (or lowest, for a lower bound)
    Prometheus value, or the highest latency p95."""
    check = item.check
    kind = getattr(check, "type", None)
    if kind == "prometheus":
        numbers = [n for o in observations if (n := _number(o.values.get("worst"))) is not None]
        if not numbers:
            return None
        if getattr(check, "op", "<") in (">", ">="):
            return f"lowest {quantity(min(numbers), item.unit)}"
        return f"highest {quantity(max(numbers), item.unit)}"
    if kind == "latency":
        numbers = [n for o in observations if (n := _number(o.values.get("p95_ms"))) is not None]
        return f"worst p95 {quantity(max(numbers), 'ms')}" if numbers else None
    return None


def digest(
    window: PhaseWindow,
    items: Sequence[Item],
    observations: Sequence[Observation],
    breaches: Sequence[Breach],
    next_phase: Phase | None,
    late: bool = False,
) -> PhaseDigest:
    """Every item's state over the phase: runs passed, worst value, the last result."""
    inside = [o for o in observations if window.start <= o.at < window.end]
    summaries = []
    for item in items:
        seen = [o for o in inside if o.item_id == item.id]
        passed = sum(1 for o in seen if o.status is ItemStatus.PASS)
        summaries.append(
            ItemSummary(
                item, len(seen), passed, worst_value(item, seen), seen[-1] if seen else None
            )
        )
    during = [
        b
        for b in breaches
        if b.opened_at < window.end and (b.recovered_at is None or b.recovered_at >= window.start)
    ]
    return PhaseDigest(window, tuple(summaries), tuple(during), next_phase, late)


def digest_notice(release: Release, found: PhaseDigest) -> Digest:
    """The digest as the notice the channel gets (and the export reads back)."""
    titles = {s.item.id: s.item.title for s in found.items}
    return Digest(
        release=release.id,
        name=release.name,
        phase=found.window.phase.id,
        title=found.window.phase.title,
        start=found.window.start,
        end=found.window.end,
        late=found.late,
        next=found.next_phase.title if found.next_phase else None,
        items=tuple(
            DigestLine(
                id=s.item.id,
                title=s.item.title,
                manual=s.item.check is None,
                runs=s.runs,
                passed=s.passed,
                worst=s.worst,
                last_status=s.last.status.value if s.last else None,
                last_reason=s.last.reason if s.last else None,
            )
            for s in found.items
        ),
        breaches=tuple(
            DigestBreachLine(
                item=titles.get(b.item_id, b.item_id),
                opened_at=b.opened_at,
                reason=b.reason,
                recovered_at=b.recovered_at,
                acknowledged_by=b.acknowledged_by,
                rolled_back_by=b.rolled_back_by,
            )
            for b in found.breaches
        ),
    )


def breach_alert(app: AppConfig, release: Release, message: AlertMessage) -> BreachAlert:
    """The breach's message as it stands: every item by title, failing or recovered."""
    phases = {p.id: p.title for p in app.post_deploy.phases}
    return BreachAlert(
        release=release.id,
        message=message.id,
        name=release.name,
        phase=phases.get(message.phase, message.phase),
        responders=message.responders,
        lines=tuple(
            AlertLine(
                title=app.title_of(b.item_id),
                reason=b.reason,
                opened_at=b.opened_at,
                failing=b.status != ItemStatus.ERROR.value,
                recovered_at=b.recovered_at,
            )
            for b in message.breaches
        ),
        closed_at=message.closed_at,
        acknowledged_by=message.acknowledged.user if message.acknowledged else None,
        acknowledged_at=message.acknowledged.at if message.acknowledged else None,
        rolled_back_by=message.rolled_back.user if message.rolled_back else None,
        rolled_back_at=message.rolled_back.at if message.rolled_back else None,
    )
