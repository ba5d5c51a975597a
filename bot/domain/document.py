"""The sign-off document's record: everything an export shows about one release, as values."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime

from bot.domain.checklist import Item, Phase
from bot.domain.model import LatestResult, Rejection
from bot.domain.monitoring import Breach, PhaseWindow, timeline
from bot.domain.notices import Digest, DigestBreachLine, DigestLine
from bot.domain.view import ReleaseView


@dataclass(frozen=True)
class DigestRecord:
    """A posted digest: what its notice said, and when it was queued."""

    phase_id: str
    title: str
    start: datetime
    end: datetime
    posted_at: datetime
    late: bool
    items: tuple[DigestLine, ...]
    breaches: tuple[DigestBreachLine, ...]

    @property
    def healthy_items(self) -> int:
        return sum(1 for i in self.items if i.healthy)


def digest_record(notice: Digest, posted_at: datetime) -> DigestRecord:
    return DigestRecord(
        notice.phase,
        notice.title,
        notice.start,
        notice.end,
        posted_at,
        notice.late,
        notice.items,
        notice.breaches,
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
    withdrawn_rejections: tuple[Rejection, ...] = ()
    names: Mapping[str, str] = field(default_factory=dict)  # user id -> display name

    @property
    def user_ids(self) -> list[str]:
        """Everyone the document names (to look up their display names)."""
        view, release = self.view, self.view.release
        found = [release.created_by, *release.deploy_team, release.deployed_by]
        found += [s.user_id for s in view.signatures]
        found += [s.signature.user_id for s in view.stale]
        found += [r.user_id for r in (*view.rejections, *self.withdrawn_rejections)]
        found += [e.granted_by for e in view.exceptions]
        found += [u for w in view.waivers for u in (w.requested_by, w.decided_by, w.ended_by)]
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
