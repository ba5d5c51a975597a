"""Every service of one bot, built once from the shared dependencies: what the Slack
listeners, the HTTP API, the scheduler and the command line call."""

from __future__ import annotations

from dataclasses import dataclass

from bot.services.checking import CheckService
from bot.services.deploy import DeployService
from bot.services.deps import Deps
from bot.services.events import EventLog
from bot.services.export import ExportService
from bot.services.freezes import FreezeService
from bot.services.github import GitHubService
from bot.services.home import HomeService
from bot.services.jobs import JobService, Work
from bot.services.monitor import MonitorService
from bot.services.outbox import OutboxService
from bot.services.releases import ReleaseService
from bot.services.reminders import ReminderService
from bot.services.signoff import SignoffService
from bot.services.waivers import WaiverService


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
    github: GitHubService
    freezes: FreezeService
    waivers: WaiverService

    @classmethod
    def build(cls, deps: Deps) -> Services:
        checks = CheckService(deps)
        monitor = MonitorService(deps)
        reminders = ReminderService(deps)
        releases = ReleaseService(deps, checks)
        deploy = DeployService(deps, monitor)
        env = deps.settings.env
        app = None
        if env.github_app:
            from bot.github.api import GitHubApp

            key = env.github_app_private_key or ""
            app = GitHubApp(deps.http, env.github_api_url, env.github_app_id or "", key)

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
            releases=releases,
            signoff=SignoffService(deps),
            checks=checks,
            monitor=monitor,
            deploy=deploy,
            events=EventLog(deps),
            reminders=reminders,
            export=ExportService(deps),
            home=HomeService(deps),
            outbox=OutboxService(deps),
            jobs=JobService(deps, works),
            github=GitHubService(deps, releases, deploy, app),
            freezes=FreezeService(deps),
            waivers=WaiverService(deps),
        )
