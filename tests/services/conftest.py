"""Services over a real, migrated SQLite file, the shipped app.yaml and a clock tests move."""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select

from bot.config import load_settings
from bot.db import Database
from bot.db.migrate import upgrade
from bot.db.tables import OutboxRow
from bot.domain.model import ItemStatus
from bot.services.deps import Deps
from bot.services.signoff import SignoffService
from bot.services.tasks import TaskRunner
from tests.databases import Databases
from tests.notices import as_sent

ROOT = Path(__file__).resolve().parents[2]
T0 = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)  # a Tuesday
CHANNEL = "CRELEASE"
ENV = {
    "READINESS_CHANNEL": CHANNEL,
    "READINESS_ENGINEERING_LEAD": "UENG,UENG2",
    "READINESS_DEVOPS_LEAD": "UOPS",
    "READINESS_SECURITY_LEAD": "USEC,UENG",
    "READINESS_PRODUCT_OWNER": "UPRD",
    "READINESS_PRODUCT_OWNER_GROUPS": "SPRODUCT",
    "READINESS_CTO": "UCTO,UREL",
}
NON_FINAL = (
    ("engineering_lead", "UENG"),
    ("devops_lead", "UOPS"),
    ("security_lead", "USEC"),
    ("product_owner", "UPRD"),
)


class FixedClock:
    """Stands still until a test moves it."""

    def __init__(self, at: datetime) -> None:
        self.at = at

    def now(self) -> datetime:
        return self.at

    def advance(self, **delta: float) -> None:
        self.at += timedelta(**delta)


class Groups:
    """The directory: who is in each Slack user group."""

    def __init__(self, groups: Mapping[str, set[str]]) -> None:
        self.groups = groups

    async def usergroup_members(self, usergroup_id: str) -> frozenset[str]:
        return frozenset(self.groups.get(usergroup_id, set()))

    async def names(self, users: list[str]) -> dict[str, str]:
        return {}

    async def link(self, channel: str, ts: str) -> str | None:
        return None


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(T0)


@pytest.fixture
async def deps(tmp_path: Path, clock: FixedClock, databases: Databases) -> AsyncIterator[Deps]:
    url = databases.url(tmp_path)
    settings = load_settings(ROOT / "app.yaml", env={**ENV, "DATABASE_URL": url})
    database = Database(settings.env.database_url)
    await upgrade(database)
    async with httpx.AsyncClient() as http:
        deps = Deps(
            settings=settings,
            db=database,
            clock=clock,
            directory=Groups({"SPRODUCT": {"UGROUP"}}),
            http=http,
            tasks=TaskRunner(),
        )
        yield deps
        await deps.tasks.drain()  # what a test started (a check run, a monitoring run)
    await database.close()


async def make_ready(deps: Deps, release_id: int) -> None:
    """Every automated item passes and every manual item is ticked: readiness 100%."""
    now = deps.clock.now()
    async with deps.db.write() as uow:
        for item in deps.settings.app.items:
            if item.automated:
                await uow.checks.add_result(
                    release_id, None, item.id, ItemStatus.PASS.value, "ok", {}, 1.0, now
                )
            else:
                await uow.checks.tick(release_id, item.id, "UOPS", now)


async def sign_all_but_final(deps: Deps, release_id: int) -> None:
    signoff = SignoffService(deps)
    for role_id, user in NON_FINAL:
        attestations = deps.settings.app.roles[role_id].attestations
        await signoff.sign(release_id, role_id, user, attestations, None)


async def thread(deps: Deps, release_id: int) -> list[str]:
    """What was queued for the release's card thread, oldest first, as Slack gets it."""
    async with deps.db.read() as uow:
        rows = await uow.session.execute(
            select(OutboxRow.kind, OutboxRow.data, OutboxRow.text)
            .where(OutboxRow.release_id == release_id)
            .order_by(OutboxRow.id)
        )
        return [as_sent(kind, data, text) for kind, data, text in rows.all()]


async def enqueue_text(
    deps: Deps, release_id: int, text: str, in_thread: bool = True, now: datetime = T0
) -> None:
    """A message as an older version queued it: its text, as it was to be sent."""
    async with deps.db.write() as uow:
        uow.session.add(
            OutboxRow(release_id=release_id, text=text, in_thread=in_thread, created_at=now)
        )
        uow.outbox_changed()
