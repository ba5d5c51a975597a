"""Everything known about one release, assembled for display and decisions.

A view is derived from its `Facts` (what a transaction read about the release) and keeps
them, so a use-case that changes a fact derives the next view without reading again.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from bot.domain.checklist import AppConfig
from bot.domain.freezes import FreezeException, holds
from bot.domain.github import Gate
from bot.domain.model import (
    SHIPPED,
    CheckRunProgress,
    LatestResult,
    Rejection,
    Release,
    Signature,
    Tick,
)
from bot.domain.monitoring import Decision, MonitoringStatus, timeline
from bot.domain.readiness import Readiness, assess
from bot.domain.signoff import (
    Authorization,
    RoleProgress,
    StaleSignature,
    authorize,
    role_progress,
    split_stale,
)
from bot.domain.waivers import Waiver, ended_on, in_force


@dataclass(frozen=True)
class Facts:
    """What a release's view is built from, as stored."""

    release: Release
    signatures: tuple[Signature, ...] = ()  # live ones (fresh or stale), oldest first
    rejections: tuple[Rejection, ...] = ()
    results: Mapping[str, LatestResult] = field(default_factory=dict)
    ticks: Mapping[str, Tick] = field(default_factory=dict)
    run: CheckRunProgress | None = None
    digests: frozenset[str] = frozenset()  # phases whose digest is posted (once deployed)
    breaching: tuple[str, ...] = ()  # post-deploy items with an open alert
    rollback: Decision | None = None  # the decision to roll back, once taken
    gates: tuple[Gate, ...] = ()  # GitHub Actions jobs waiting on it, and their answers
    exceptions: tuple[FreezeException, ...] = ()  # freezes it may deploy during
    waivers: tuple[Waiver, ...] = ()  # every waiver asked for, oldest first
    now: datetime | None = None  # when they were read (None: no freeze or expiry looked at)


@dataclass(frozen=True)
class ReleaseView:
    release: Release
    product: str
    readiness: Readiness
    roles: tuple[RoleProgress, ...]
    authorization: Authorization
    rejections: tuple[Rejection, ...]
    run: CheckRunProgress | None
    monitoring: MonitoringStatus | None = None  # once deployed
    stale: tuple[StaleSignature, ...] = ()  # given on evidence that changed: they count no more
    gates: tuple[Gate, ...] = ()  # GitHub Actions jobs waiting on it
    in_force: tuple[Waiver, ...] = ()  # the waivers counting now (or when it shipped)
    facts: Facts | None = field(default=None, compare=False, repr=False)

    @property
    def signatures(self) -> list[Signature]:
        return [s for progress in self.roles for s in progress.signatures]

    @property
    def exceptions(self) -> tuple[FreezeException, ...]:
        """The change freezes the final role let it deploy during."""
        return self.facts.exceptions if self.facts is not None else ()

    @property
    def waivers(self) -> tuple[Waiver, ...]:
        """Every waiver asked for, oldest first (in force or not)."""
        return self.facts.waivers if self.facts is not None else ()

    @property
    def open_roles(self) -> list[RoleProgress]:
        return [p for p in self.roles if not p.complete]

    @property
    def running(self) -> bool:
        return self.run is not None and not self.run.finished

    def changed(self, app: AppConfig, **facts: Any) -> ReleaseView:
        """The view once these facts changed (`release=…`, `signatures=…`, …); readiness
        is assessed again only if results, ticks or waivers changed."""
        assert self.facts is not None, "a view built without its facts"
        moved = "release" in facts and facts["release"].ref != self.release.ref
        same = not moved and not {"results", "ticks", "waivers"} & facts.keys()
        return view_of(app, replace(self.facts, **facts), self.readiness if same else None)


def view_of(app: AppConfig, facts: Facts, readiness: Readiness | None = None) -> ReleaseView:
    """The view of FACTS (READINESS: already assessed from these facts' results and ticks)."""
    release, now = facts.release, facts.now
    # Once deployed, what was waived is what was waived when it shipped.
    shipped = release.deployed_at if release.state in SHIPPED else None
    waived = in_force(facts.waivers, shipped or now, release.ref)
    readiness = readiness or assess(app, facts.results, facts.ticks, waived)
    # A signature goes stale over a waiver that changes what counts: one of an item that
    # would not pass without it (as its evidence records them).
    counted = {v.item.id: v.waiver for v in readiness.items if v.waiver is not None}
    fresh, stale = split_stale(app, release, facts.signatures, counted)
    frozen = holds(app.freezes, facts.exceptions, now) if now is not None else []
    failing = {v.item.id: v.item.title for v in readiness.blocking_not_passing}
    unwaived = ended_on(facts.waivers, failing, now, release.ref) if facts.waivers else []
    monitoring = None
    if release.deployed_at is not None:
        windows = timeline(app.post_deploy.phases, release.deployed_at)
        monitoring = MonitoringStatus(
            tuple((w, w.phase.id in facts.digests) for w in windows),
            tuple(app.title_of(item_id) for item_id in facts.breaching),
            facts.rollback,
        )
    return ReleaseView(
        release=release,
        product=app.product,
        readiness=readiness,
        roles=tuple(role_progress(app, fresh)),
        authorization=authorize(
            app, release, fresh, facts.rejections, readiness, stale, frozen, unwaived
        ),
        rejections=tuple(facts.rejections),
        run=facts.run,
        monitoring=monitoring,
        stale=tuple(stale),
        gates=facts.gates,
        in_force=tuple(waived.values()),
        facts=facts,
    )


def build_view(
    app: AppConfig,
    release: Release,
    signatures: Sequence[Signature],
    rejections: Sequence[Rejection],
    results: Mapping[str, LatestResult],
    ticks: Mapping[str, Tick],
    run: CheckRunProgress | None,
) -> ReleaseView:
    """A view from its parts (before deployment: no monitoring facts)."""
    facts = Facts(release, tuple(signatures), tuple(rejections), results, ticks, run)
    return view_of(app, facts)
