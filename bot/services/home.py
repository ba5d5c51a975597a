"""The Home tab's content for one person: the sign-offs waiting for them, the open releases."""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from bot.domain.checklist import AppConfig, Role
from bot.domain.errors import DomainError
from bot.domain.model import PRE_DEPLOY, ReleaseState
from bot.domain.signoff import check_can_sign
from bot.domain.view import ReleaseView
from bot.services.deps import Deps, Service
from bot.services.membership import memberships
from bot.services.records import view_pages

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Signoff:
    """A role this person holds that a release still needs; `later` says why it can't be
    given yet (the final approval waits for the others, blocking items fail), or is None
    when it can be given now."""

    view: ReleaseView
    role_id: str
    role: Role
    later: str | None = None


@dataclass(frozen=True)
class Home:
    user: str
    waiting: tuple[Signoff, ...]  # sign now
    later: tuple[Signoff, ...]  # theirs to sign, once something else happens
    releases: tuple[ReleaseView, ...]  # every release not yet deployed, newest first
    at: datetime
    note: str | None = None  # what could not be found out
    grouped: bool = False  # several products: each one's sign-offs and releases together


def signoffs_for(
    app: AppConfig, views: Sequence[ReleaseView], user: str, held: frozenset[str]
) -> list[Signoff]:
    """The roles USER holds that open releases still need, by the rules the Sign button
    applies: none on a release USER already signed (one person, one role) or opened (for
    its final approval)."""
    found: list[Signoff] = []
    for view in views:
        release = view.release
        if release.state is not ReleaseState.OPEN:
            continue
        if any(s.user_id == user for s in view.signatures):
            continue
        for progress in view.open_roles:
            if progress.role_id not in held:
                continue
            if progress.role.final and release.created_by == user:
                continue
            try:
                check_can_sign(
                    app, release, progress.role_id, user, held, view.signatures, view.readiness
                )
            except DomainError as refused:
                found.append(Signoff(view, progress.role_id, progress.role, str(refused)))
            else:
                found.append(Signoff(view, progress.role_id, progress.role))
    return found


class HomeService(Service):
    def __init__(self, deps: Deps) -> None:
        super().__init__(deps)
        self._opened: dict[str, float] = {}  # user -> when they last opened their Home

    def opened(self, user: str) -> None:
        """USER opened their Home tab: it is kept current for a while after."""
        self._opened[user] = time.monotonic()

    def watched(self, within: float) -> list[str]:
        """Who opened their Home tab in the last WITHIN seconds."""
        now = time.monotonic()
        for user, at in list(self._opened.items()):
            if now - at > within:
                del self._opened[user]
        return list(self._opened)

    async def home(self, user: str, views: Sequence[ReleaseView] | None = None) -> Home:
        """USER's Home; VIEWS (from `open_views`) saves reading them again for each user."""
        note = None
        if views is None:
            views = await self.open_views()
        signoffs: list[Signoff] = []
        order = {product: n for n, product in enumerate(self.catalog.products)}
        views = [v for v in views if v.release.product in order]
        for product, app in self.catalog.products.items():  # each product's roles its own
            try:
                held = await memberships(app, user, self.deps.directory)
            except Exception as exc:  # Slack didn't say who is in a user group: IDs only
                log.warning("home tab of %s: user groups unknown (%s)", user, exc)
                held = frozenset(r for r, role in app.roles.items() if user in role.members)
                note = (
                    "Slack didn't say who is in the roles' user groups, so sign-offs you hold "
                    "through a group may be missing; open this tab again in a minute."
                )
            mine = [v for v in views if v.release.product == product]
            signoffs.extend(signoffs_for(app, mine, user, held))
        return Home(
            user=user,
            waiting=tuple(s for s in signoffs if s.later is None),
            later=tuple(s for s in signoffs if s.later is not None),
            releases=tuple(sorted(views, key=lambda v: order[v.release.product])),
            at=self.deps.clock.now(),
            note=note,
            grouped=len(order) > 1,
        )

    async def open_views(self) -> list[ReleaseView]:
        """Every release not yet deployed, newest first (read a page at a time): the
        sign-offs each Home finds waiting, and the releases it lists."""
        views = [view async for page in view_pages(self.deps, PRE_DEPLOY) for view in page]
        return views[::-1]
