"""The services the listeners call, built once per app from the shared dependencies."""

from __future__ import annotations

from dataclasses import dataclass

from bot.services.checking import CheckService
from bot.services.deps import Deps
from bot.services.releases import ReleaseService
from bot.services.reminders import ReminderService
from bot.services.signoff import SignoffService


@dataclass(frozen=True)
class Services:
    deps: Deps
    releases: ReleaseService
    signoff: SignoffService
    checks: CheckService
    reminders: ReminderService

    @classmethod
    def build(cls, deps: Deps) -> Services:
        return cls(
            deps,
            ReleaseService(deps),
            SignoffService(deps),
            CheckService(deps),
            ReminderService(deps),
        )
