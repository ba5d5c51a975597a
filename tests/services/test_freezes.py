"""Change freezes over real storage: approval may still be given, but the gate and Mark
deployed refuse while a freeze covers now; only the final role grants an exception, with a
reason, and it lasts until that freeze ends."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select

from bot.config import load_settings
from bot.db import Database
from bot.db.migrate import upgrade
from bot.db.tables import ReleaseRow
from bot.documents.json_export import render_json
from bot.documents.markdown import render_markdown
from bot.domain.authorization import DeploymentPlan
from bot.domain.errors import InvalidInput, InvalidState, NotAuthorized
from bot.domain.model import ReleaseState
from bot.services.deploy import DeployService
from bot.services.deps import Deps
from bot.services.export import ExportService
from bot.services.freezes import FreezeService
from bot.services.monitor import MonitorService
from bot.services.records import load_release, load_view
from bot.services.releases import ReleaseService
from bot.services.reminders import ReminderService
from bot.services.signoff import SignoffService
from bot.services.tasks import TaskRunner
from bot.web.schemas import gate_json, release_json
from tests.databases import Databases
from tests.services.conftest import (
    CHANNEL,
    ENV,
    ROOT,
    T0,
    FixedClock,
    Groups,
    make_ready,
    sign_all_but_final,
    thread,
)

# T0 is Tuesday 08:00 UTC: the maintenance freeze covers it until 09:00, and next Tuesday.
FREEZES = """
freezes:
  - {id: maintenance, title: Tuesday maintenance, cron: "0 7 * * TUE", duration: 2h}
  - {id: year_end, title: Year-end freeze, from: 2026-12-20T00:00Z, to: 2027-01-04T00:00Z}
"""
HOUR = timedelta(hours=1)


@pytest.fixture
async def deps(tmp_path: Path, clock: FixedClock, databases: Databases) -> AsyncIterator[Deps]:
    config = tmp_path / "app.yaml"
    config.write_text((ROOT / "app.yaml").read_text() + FREEZES)
    url = databases.url(tmp_path)
    settings = load_settings(config, env={**ENV, "DATABASE_URL": url})
    database = Database(settings.env.database_url)
    await upgrade(database)
    async with httpx.AsyncClient() as http:
        yield Deps(
            settings=settings,
            db=database,
            clock=clock,
            directory=Groups({}),
            http=http,
            tasks=TaskRunner(),
        )
    await database.close()


async def approved(deps: Deps) -> int:
    opened = await ReleaseService(deps).open("LUMINES 1.0.0", "abc123", "UREL", CHANNEL)
    release_id = opened.release.id
    await make_ready(deps, release_id)
    await sign_all_but_final(deps, release_id)
    attestations = deps.settings.app.roles["cto"].attestations
    plan = DeploymentPlan(T0 + HOUR, T0 + 3 * HOUR, ("UOPS",), "helm rollback lumines")
    await SignoffService(deps).sign(release_id, "cto", "UCTO", attestations, None, plan)
    return release_id


async def gate(deps: Deps, release_id: int) -> tuple[int, dict[str, object]]:
    async with deps.db.read() as uow:
        view = await load_view(uow, deps.settings.app, await load_release(uow, release_id))
    return gate_json(view)


async def audit_kinds(deps: Deps, release_id: int) -> list[str]:
    async with deps.db.read() as uow:
        return [event.kind for event in await uow.audit.events(release_id)]


async def test_approval_is_given_but_the_gate_is_closed_by_the_freeze(deps: Deps) -> None:
    release_id = await approved(deps)
    status, answer = await gate(deps, release_id)
    assert status == 409
    assert answer["state"] == ReleaseState.APPROVED.value
    assert answer["reasons"] == ["change freeze: Tuesday maintenance until 2026-12-01 09:00 UTC"]
    (detail,) = answer["reasons_detail"]  # type: ignore[misc]
    assert detail["kind"] == "change_freeze" and detail["freeze_id"] == "maintenance"


async def test_mark_deployed_is_refused_with_the_freeze(deps: Deps) -> None:
    release_id = await approved(deps)
    deploy = DeployService(deps, MonitorService(deps))
    with pytest.raises(InvalidState, match="change freeze: Tuesday maintenance until"):
        await deploy.mark_deployed(release_id, "UOPS")
    with pytest.raises(InvalidState, match="change freeze"):
        await deploy.mark_deployed_by_api(release_id, "pipeline")


async def test_only_the_final_role_grants_an_exception_and_a_refusal_records_nothing(
    deps: Deps,
) -> None:
    release_id = await approved(deps)
    freezes = FreezeService(deps)
    before = await audit_kinds(deps, release_id)
    with pytest.raises(NotAuthorized, match="Only the CTO/Engineering Manager"):
        await freezes.check_except(release_id, "UENG")
    with pytest.raises(NotAuthorized):
        await freezes.grant(release_id, "UENG", "urgent fix")
    with pytest.raises(InvalidInput, match="reason"):
        await freezes.grant(release_id, "UCTO", "  ")
    assert await audit_kinds(deps, release_id) == before
    async with deps.db.read() as uow:
        assert await uow.freezes.exceptions(release_id) == ()
    assert (await gate(deps, release_id))[0] == 409


async def test_an_exception_opens_the_gate_until_that_freeze_ends(
    deps: Deps, clock: FixedClock
) -> None:
    release_id = await approved(deps)
    view = await FreezeService(deps).grant(release_id, "UCTO", "Security fix, cannot wait")
    assert view.authorization.approved
    assert (await gate(deps, release_id))[0] == 200
    async with deps.db.read() as uow:
        (granted,) = await uow.freezes.exceptions(release_id)
        events = {e.kind: e for e in await uow.audit.events(release_id)}
    assert (granted.freeze_id, granted.granted_by) == ("maintenance", "UCTO")
    assert granted.ends_at == T0 + timedelta(hours=1)
    assert events["freeze.excepted"].data["reason"] == "Security fix, cannot wait"
    assert events["freeze.excepted"].actor == "UCTO"
    with pytest.raises(InvalidState, match="No change freeze holds"):
        await FreezeService(deps).grant(release_id, "UCTO", "again")
    clock.advance(hours=2)  # the freeze is over: nothing holds it
    assert (await gate(deps, release_id))[0] == 200
    clock.advance(days=7, hours=-2)  # next Tuesday 08:00's: the exception was for last week's
    status, answer = await gate(deps, release_id)
    assert status == 409
    assert answer["reasons"] == ["change freeze: Tuesday maintenance until 2026-12-08 09:00 UTC"]


async def test_freezes_lists_the_current_and_the_next(deps: Deps) -> None:
    listing = FreezeService(deps).listing(deps.settings.app)
    assert [w.freeze_id for w in listing.current] == ["maintenance"]
    assert [(w.freeze_id, w.start) for w in listing.upcoming] == [
        ("maintenance", T0 + timedelta(days=7, hours=-1)),
        ("year_end", T0.replace(day=20, hour=0)),
    ]


async def test_the_export_lists_the_exception(deps: Deps) -> None:
    release_id = await approved(deps)
    await FreezeService(deps).grant(release_id, "UCTO", "Security fix, cannot wait")
    document = await ExportService(deps).document(release_id)
    markdown = render_markdown(document)
    assert "**Change-freeze exceptions:**" in markdown
    assert "- Tuesday maintenance until 2026-12-01 09:00 UTC, granted by" in markdown
    assert "Security fix, cannot wait" in markdown
    (granted,) = render_json(document)["authorization"]["freeze_exceptions"]
    assert granted["freeze"] == "maintenance" and granted["reason"] == "Security fix, cannot wait"
    assert granted["until"].startswith("2026-12-01T09:00:00")


async def test_the_api_release_lists_the_exception(deps: Deps) -> None:
    async def exceptions() -> object:
        async with deps.db.read() as uow:
            view = await load_view(uow, deps.settings.app, await load_release(uow, release_id))
        return release_json(view)["freeze_exceptions"]

    release_id = await approved(deps)
    assert await exceptions() == []
    await FreezeService(deps).grant(release_id, "UCTO", "Security fix, cannot wait")
    assert await exceptions() == [
        {
            "freeze": "maintenance",
            "title": "Tuesday maintenance",
            "until": (T0 + HOUR).isoformat(),
            "granted_by": "UCTO",
            "reason": "Security fix, cannot wait",
            "granted_at": T0.isoformat(),
        }
    ]


async def test_the_window_reminder_mentions_a_freeze_overlapping_the_planned_window(
    deps: Deps, clock: FixedClock
) -> None:
    window = "2026-12-08T08:00Z/2026-12-08T10:00Z"  # next Tuesday, in its maintenance
    opened = await ReleaseService(deps).open("LUMINES 2.0.0", None, "UREL", CHANNEL, window=window)
    clock.advance(days=7, hours=-1)  # Tuesday 07:00, the window an hour away
    assert await ReminderService(deps).window_soon() == 1
    reminder = (await thread(deps, opened.release.id))[-1]
    assert "The change freeze Tuesday maintenance (" in reminder
    assert "overlaps the planned window: no deploy then without an exception." in reminder


async def card_version(deps: Deps, release_id: int) -> int:
    async with deps.db.read() as uow:
        found = await uow.session.execute(
            select(ReleaseRow.card_version).where(ReleaseRow.id == release_id)
        )
        return int(found.scalar_one())


async def test_the_card_is_redrawn_once_when_a_freeze_ends(deps: Deps, clock: FixedClock) -> None:
    release_id = await approved(deps)
    freezes = FreezeService(deps)
    assert await freezes.redraw_at_edges() == 0  # the freeze began before the look-back
    before = await card_version(deps, release_id)
    clock.advance(hours=1, seconds=30)  # 09:00:30: the maintenance freeze ended at 09:00
    assert await freezes.redraw_at_edges() == 1
    assert await card_version(deps, release_id) == before + 1
    assert await freezes.redraw_at_edges() == 0  # seen to here
    assert await FreezeService(deps).redraw_at_edges() == 0  # and by another replica
    status, _ = await gate(deps, release_id)
    assert status == 200


async def test_the_card_is_redrawn_when_a_freeze_starts(deps: Deps, clock: FixedClock) -> None:
    release_id = await approved(deps)
    clock.at = clock.at.replace(day=8, hour=7, minute=0, second=20)  # next Tuesday 07:00:20
    before = await card_version(deps, release_id)
    assert await FreezeService(deps).redraw_at_edges() == 1
    assert await card_version(deps, release_id) == before + 1
