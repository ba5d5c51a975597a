"""The sign-off document's record: everything an export shows about one release, as values."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from bot.config import Item, Phase
from bot.domain.model import LatestResult
from bot.domain.monitoring import Breach, PhaseWindow, timeline
from bot.domain.view import ReleaseView


@dataclass(frozen=True)
class DigestItem:
    item_id: str
    title: str
    manual: bool
    runs: int
    passed: int
    worst: str | None = None
    last_status: str | None = None
    last_reason: str | None = None

    @property
    def healthy(self) -> bool:
        return self.runs > 0 and self.passed == self.runs


@dataclass(frozen=True)
class DigestBreach:
    item: str  # the item's title
    opened_at: datetime
    reason: str
    recovered_at: datetime | None = None
    acknowledged_by: str | None = None
    rolled_back_by: str | None = None


@dataclass(frozen=True)
class DigestRecord:
    """A posted digest, read back from the facts its message carried."""

    phase_id: str
    title: str
    start: datetime
    end: datetime
    posted_at: datetime
    late: bool
    items: tuple[DigestItem, ...]
    breaches: tuple[DigestBreach, ...]

    @property
    def healthy_items(self) -> int:
        return sum(1 for i in self.items if i.healthy)


def _at(value: Any) -> datetime | None:
    return datetime.fromisoformat(str(value)) if value else None


def digest_record(data: Mapping[str, Any], posted_at: datetime) -> DigestRecord:
    """The digest MonitorService queued (its outbox `data`), as a value."""
    start, end = _at(data.get("start")), _at(data.get("end"))
    return DigestRecord(
        phase_id=str(data.get("phase", "")),
        title=str(data.get("title", "")),
        start=start or posted_at,
        end=end or posted_at,
        posted_at=posted_at,
        late=bool(data.get("late")),
        items=tuple(
            DigestItem(
                item_id=str(i.get("id", "")),
                title=str(i.get("title", "")),
                manual=bool(i.get("manual")),
                runs=int(i.get("runs") or 0),
                passed=int(i.get("passed") or 0),
                worst=i.get("worst"),
                last_status=i.get("last_status"),
                last_reason=i.get("last_reason"),
            )
            for i in data.get("items") or []
        ),
        breaches=tuple(
            DigestBreach(
                item=str(b.get("item", "")),
                opened_at=_at(b.get("opened_at")) or posted_at,
                reason=str(b.get("reason", "")),
                recovered_at=_at(b.get("recovered_at")),
                acknowledged_by=b.get("acknowledged_by"),
                rolled_back_by=b.get("rolled_back_by"),
            )
            for b in data.get("breaches") or []
        ),
    )


@dataclass(frozen=True)
class AuditHead:
    head: str  # the newest audit event's hash when the document was read
    events: int  # events in the chain up to it
    problem: str | None = None  # the chain's first bad event, when verification failed

    @property
    def verified(self) -> bool:
        return self.problem is None


@dataclass(frozen=True)
class SignoffDocument:
    """One release's sign-off as an auditor reads it: the checklist with each item's latest
    state, the signatures, the authorization, the post-deployment monitoring so far, and the
    audit log's head hash that seals the record."""

    view: ReleaseView
    checklist_version: str
    generated_at: datetime
    audit: AuditHead
    phases: tuple[Phase, ...] = ()
    post_items: tuple[Item, ...] = ()
    post_results: Mapping[str, LatestResult] = field(default_factory=dict)
    digests: tuple[DigestRecord, ...] = ()
    alerts: tuple[Breach, ...] = ()
    names: Mapping[str, str] = field(default_factory=dict)  # user id -> display name

    @property
    def user_ids(self) -> list[str]:
        """Everyone the document names (to look up their display names)."""
        view, release = self.view, self.view.release
        found = [release.created_by, *release.deploy_team, release.deployed_by]
        found += [s.user_id for s in view.signatures]
        found += [s.signature.user_id for s in view.stale]
        found += [r.user_id for r in view.rejections]
        found += [i.by for i in view.readiness.items]
        found += [a.acknowledged_by for a in self.alerts]
        found += [a.rolled_back_by for a in self.alerts]
        return [user for user in dict.fromkeys(found) if user]

    @property
    def windows(self) -> list[PhaseWindow]:
        """The monitoring phases in time, once deployed."""
        deployed = self.view.release.deployed_at
        return timeline(self.phases, deployed) if deployed else []

    def digest(self, phase_id: str) -> DigestRecord | None:
        return next((d for d in self.digests if d.phase_id == phase_id), None)

    def phase_items(self, phase: Phase) -> list[Item]:
        """The post-deploy items shown under a phase: those grouped under its title, and
        those grouped under no phase's title (every phase runs every item)."""
        titles = {p.title for p in self.phases}
        return [i for i in self.post_items if i.group == phase.title or i.group not in titles]

    def post_title(self, item_id: str) -> str:
        return next((i.title for i in self.post_items if i.id == item_id), item_id)
