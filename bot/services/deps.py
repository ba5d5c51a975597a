"""What the services are given: settings, storage, the clock, and the ports they call."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Protocol

import httpx

from bot.clock import Clock
from bot.config import Settings
from bot.db import Database
from bot.metrics import Metrics
from bot.services.tasks import TaskRunner


class Directory(Protocol):
    """Who is in a Slack user group, asked when someone signs (not cached for long)."""

    async def usergroup_members(self, usergroup_id: str) -> frozenset[str]: ...


@dataclass
class Deps:
    settings: Settings
    db: Database
    clock: Clock
    directory: Directory
    http: httpx.AsyncClient
    tasks: TaskRunner
    # Set whenever something was queued for Slack; the outbound sender waits on it.
    outbox_ready: asyncio.Event = field(default_factory=asyncio.Event)
    metrics: Metrics = field(default_factory=Metrics)
