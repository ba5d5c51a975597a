"""Everything known about one release, assembled for display and decisions."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from bot.config import AppConfig
from bot.domain.model import CheckRunProgress, LatestResult, Rejection, Release, Signature, Tick
from bot.domain.monitoring import MonitoringStatus
from bot.domain.readiness import Readiness, assess
from bot.domain.signoff import (
    Authorization,
    RoleProgress,
    StaleSignature,
    authorize,
    role_progress,
    split_stale,
)


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

    @property
    def signatures(self) -> list[Signature]:
        return [s for progress in self.roles for s in progress.signatures]

    @property
    def open_roles(self) -> list[RoleProgress]:
        return [p for p in self.roles if not p.complete]

    @property
    def running(self) -> bool:
        return self.run is not None and not self.run.finished


def build_view(
    app: AppConfig,
    release: Release,
    signatures: Sequence[Signature],
    rejections: Sequence[Rejection],
    results: Mapping[str, LatestResult],
    ticks: Mapping[str, Tick],
    run: CheckRunProgress | None,
) -> ReleaseView:
    readiness = assess(app, results, ticks)
    fresh, stale = split_stale(app, release, signatures)
    return ReleaseView(
        release=release,
        product=app.product,
        readiness=readiness,
        roles=tuple(role_progress(app, fresh)),
        authorization=authorize(app, release, fresh, rejections, readiness, stale),
        rejections=tuple(rejections),
        run=run,
        stale=tuple(stale),
    )
