"""What the services are given: settings, storage, the clock, and the ports they call."""

from __future__ import annotations

import os
import socket
from dataclasses import dataclass, field
from typing import Protocol

import httpx

from bot.config import Settings
from bot.db import Database
from bot.domain.checklist import AppConfig
from bot.domain.errors import NotFound
from bot.domain.model import Release
from bot.domain.products import Catalog
from bot.domain.view import ReleaseView
from bot.runtime.clock import Clock
from bot.runtime.metrics import Metrics
from bot.services.tasks import TaskRunner


class Directory(Protocol):
    """Who is in a Slack user group, asked when someone signs (not cached for long)."""

    async def usergroup_members(self, usergroup_id: str) -> frozenset[str]: ...

    async def names(self, users: list[str]) -> dict[str, str]:
        """People's display names, as far as Slack tells them (others: left out)."""
        ...

    async def link(self, channel: str, ts: str) -> str | None:
        """A message's permalink (None: Slack didn't give one)."""
        ...


class NoDirectory:
    """Where nobody signs (a terminal): user groups are never asked, nobody is in one."""

    async def usergroup_members(self, usergroup_id: str) -> frozenset[str]:
        return frozenset()

    async def names(self, users: list[str]) -> dict[str, str]:
        return {}

    async def link(self, channel: str, ts: str) -> str | None:
        return None


class CardViews:
    """The view each card's newest version was built from, by the transaction that made
    it: the sender shows it without reading the release again. A version this process
    didn't build (another's, or a bare bump) is read from the database."""

    def __init__(self) -> None:
        self._views: dict[int, tuple[int, ReleaseView]] = {}

    def put(self, release_id: int, version: int, view: ReleaseView) -> None:
        held = self._views.get(release_id)
        if held is None or held[0] < version:
            self._views[release_id] = (version, view)

    def take(self, release_id: int, version: int) -> ReleaseView | None:
        held = self._views.get(release_id)
        if held is None or held[0] > version:
            return None
        del self._views[release_id]
        return held[1] if held[0] == version else None


@dataclass
class Deps:
    settings: Settings
    db: Database
    clock: Clock
    directory: Directory
    http: httpx.AsyncClient
    tasks: TaskRunner
    metrics: Metrics = field(default_factory=Metrics)
    cards: CardViews = field(default_factory=CardViews)
    # Each release's product, once read: it never changes.
    products: dict[int, str] = field(default_factory=dict)
    # Who this process is among the replicas sharing the database (leases name it).
    replica: str = field(default_factory=lambda: f"{socket.gethostname()}:{os.getpid()}")

    def __post_init__(self) -> None:
        self.use(self.settings)
        self.db.now = self.clock.now

    def use(self, settings: Settings) -> None:
        """Serve SETTINGS from now on (at start, and when the config is reloaded)."""
        self.settings = settings
        self.db.legacy_product = settings.catalog.only

    @property
    def catalog(self) -> Catalog:
        """The products as now configured (a reload swaps `settings`)."""
        return self.settings.catalog

    def config(self, release: Release) -> AppConfig:
        """The checklist, roles and schedules of RELEASE's product."""
        return self.settings.catalog.config(release.product)

    async def config_of(self, release_id: int) -> AppConfig:
        """`config` of a release by id (asked before a transaction: who may act on it
        depends on its product's roles)."""
        product = self.products.get(release_id)
        if product is None:
            async with self.db.read() as uow:
                release = await uow.releases.get(release_id)
            if release is None:
                raise NotFound("That release no longer exists.")
            product = self.products[release_id] = release.product
        return self.settings.catalog.config(product)


class Service:
    """A use-case's home: the dependencies, and through them the configured products."""

    def __init__(self, deps: Deps) -> None:
        self.deps = deps

    @property
    def catalog(self) -> Catalog:
        return self.deps.catalog
