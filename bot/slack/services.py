"""The services the listeners call, built once per app from the shared dependencies."""

from __future__ import annotations

from dataclasses import dataclass

from bot.services.checking import CheckService
from bot.services.deploy import DeployService
from bot.services.deps import Deps
from bot.services.events import EventLog
from bot.services.export import ExportService
from bot.services.home import HomeService
from bot.services.monitor import MonitorService
from bot.services.releases import ReleaseService
from bot.services.reminders import ReminderService
from bot.services.signoff import SignoffService


@dataclass(frozen=True)
class Services:
    deps: Deps
    releases: ReleaseService
    signoff: SignoffService
    checks: CheckService
    monitor: MonitorService
    deploy: DeployService
    events: EventLog
    reminders: ReminderService
    export: ExportService
    home: HomeService

    @classmethod
    def build(cls, deps: Deps) -> Services:
        monitor = MonitorService(deps)
        return cls(
            deps=deps,
            releases=ReleaseService(deps),
            signoff=SignoffService(deps),
            checks=CheckService(deps),
            monitor=monitor,
            deploy=DeployService(deps, monitor),
            events=EventLog(deps),
            reminders=ReminderService(deps),
            export=ExportService(deps),
            home=HomeService(deps),
        )
