"""Every service of one bot, built once from the shared dependencies: what the Slack
listeners, the HTTP API, the scheduler and the command line call."""

from __future__ import annotations

from dataclasses import dataclass

from bot.services.checking import CheckService
from bot.services.deploy import DeployService
from bot.services.deps import Deps
from bot.services.events import EventLog
from bot.services.export import ExportService
from bot.services.home import HomeService
from bot.services.jobs import JobService, Work
from bot.services.monitor import MonitorService
from bot.services.outbox import OutboxService
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
    outbox: OutboxService
    jobs: JobService

    @classmethod
    def build(cls, deps: Deps) -> Services:
        checks = CheckService(deps)
        monitor = MonitorService(deps)
        reminders = ReminderService(deps)

        def works(name: str) -> Work | None:
            """What a job of this name does: `recheck:PRODUCT`, `reminder:PRODUCT`."""
            kind, _, product = name.partition(":")
            if product not in deps.catalog.products:
                return None
            if kind == "recheck":
                return lambda: checks.recheck(product)
            if kind == "reminder":
                return lambda: reminders.daily(product)
            return None

        return cls(
            deps=deps,
            releases=ReleaseService(deps, checks),
            signoff=SignoffService(deps),
            checks=checks,
            monitor=monitor,
            deploy=DeployService(deps, monitor),
            events=EventLog(deps),
            reminders=reminders,
            export=ExportService(deps),
            home=HomeService(deps),
            outbox=OutboxService(deps),
            jobs=JobService(deps, works),
        )
