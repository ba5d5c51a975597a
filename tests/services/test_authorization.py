"""Section 10 recorded with the final signature, in one transaction; a window planned at `new`."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from bot.db.tables import ReleaseRow
from bot.domain.authorization import DeploymentPlan
from bot.domain.errors import InvalidInput, InvalidState
from bot.domain.forms import SignField
from bot.domain.model import Release, ReleaseState
from bot.services.deps import Deps
from bot.services.releases import ReleaseService
from bot.services.signoff import SignoffService, SignProblems
from bot.slack.blocks.text import mrkdwn
from tests.services.conftest import CHANNEL, T0, FixedClock, make_ready, sign_all_but_final, thread

ATTESTATIONS, TEAM = SignField.ATTESTATIONS, SignField.TEAM
WINDOW_START, WINDOW_END = SignField.WINDOW_START, SignField.WINDOW_END

HOUR = timedelta(hours=1)
PLAN = DeploymentPlan(T0 + HOUR, T0 + 3 * HOUR, ("UOPS", "UCTO"), "helm rollback lumines 41")


async def ready_for_final(
    deps: Deps, name: str = "LUMINES 1.0.0", window: str | None = None
) -> int:
    opened = await ReleaseService(deps).open(name, "abc123", "UREL", CHANNEL, window=window)
    await make_ready(deps, opened.release.id)
    await sign_all_but_final(deps, opened.release.id)
    return opened.release.id


async def final_sign(deps: Deps, release_id: int, plan: DeploymentPlan | None) -> None:
    attestations = deps.settings.app.roles["cto"].attestations
    await SignoffService(deps).sign(release_id, "cto", "UCTO", attestations, "Ship it", plan)


async def load(deps: Deps, release_id: int) -> Release:
    async with deps.db.read() as uow:
        release = await uow.releases.get(release_id)
    assert release is not None
    return release


async def audit_kinds(deps: Deps, release_id: int) -> list[str]:
    async with deps.db.read() as uow:
        return [event.kind for event in await uow.audit.events(release_id)]


async def test_final_signature_records_window_team_and_plan(deps: Deps) -> None:
    release_id = await ready_for_final(deps)
    await final_sign(deps, release_id, PLAN)
    release = await load(deps, release_id)
    assert release.state is ReleaseState.APPROVED
    assert (release.window_start, release.window_end) == (T0 + HOUR, T0 + 3 * HOUR)
    assert release.deploy_team == ("UOPS", "UCTO")
    assert release.rollback_plan == "helm rollback lumines 41"
    async with deps.db.read() as uow:
        events = {event.kind: event for event in await uow.audit.events(release_id)}
    recorded = events["authorization.recorded"]
    assert recorded.actor == "UCTO"
    assert recorded.data["window_start"] == (T0 + HOUR).isoformat()
    assert recorded.data["team"] == ["UOPS", "UCTO"]
    assert recorded.data["rollback_plan"] == "helm rollback lumines 41"
    messages = await thread(deps, release_id)
    at = messages.index("<@UCTO> signed as *CTO/Engineering Manager*.\n> Ship it")
    assert messages[at + 1].startswith(":clipboard: Deployment window: <!date^")
    assert messages[at + 1].endswith("team: <@UOPS>, <@UCTO>.")
    assert "approved for production deployment" in messages[at + 2]


async def test_an_invalid_plan_records_nothing(deps: Deps, clock: FixedClock) -> None:
    release_id = await ready_for_final(deps)
    before = await audit_kinds(deps, release_id)
    bad = DeploymentPlan(T0 + 3 * HOUR, T0 + HOUR, (), "helm rollback")
    with pytest.raises(SignProblems) as refused:
        await final_sign(deps, release_id, bad)
    assert refused.value.problems.keys() == {WINDOW_END, TEAM}
    with pytest.raises(SignProblems) as refused:
        await final_sign(deps, release_id, None)  # a form without section 10
    assert WINDOW_START in refused.value.problems
    release = await load(deps, release_id)
    assert release.state is ReleaseState.OPEN
    assert release.window_start is None and release.deploy_team == ()
    assert release.rollback_plan is None
    assert await audit_kinds(deps, release_id) == before
    async with deps.db.read() as uow:
        assert [s.role_id for s in await uow.signatures.live(release_id)] == [
            "engineering_lead",
            "devops_lead",
            "security_lead",
            "product_owner",
        ]


async def test_every_form_problem_comes_back_together(deps: Deps) -> None:
    release_id = await ready_for_final(deps)
    with pytest.raises(SignProblems) as refused:
        await SignoffService(deps).sign(release_id, "cto", "UCTO", [], None, DeploymentPlan())
    assert ATTESTATIONS in refused.value.problems and TEAM in refused.value.problems


async def test_a_refused_final_signature_keeps_the_plan_unrecorded(deps: Deps) -> None:
    opened = await ReleaseService(deps).open("LUMINES 1.0.0", None, "UREL", CHANNEL)
    with pytest.raises(InvalidState, match="final approval comes last"):
        await final_sign(deps, opened.release.id, PLAN)
    assert (await load(deps, opened.release.id)).deploy_team == ()


async def test_other_roles_record_no_plan(deps: Deps) -> None:
    opened = await ReleaseService(deps).open("LUMINES 1.0.0", None, "UREL", CHANNEL)
    attestations = deps.settings.app.roles["devops_lead"].attestations
    await SignoffService(deps).sign(
        opened.release.id, "devops_lead", "UOPS", attestations, None, PLAN
    )
    release = await load(deps, opened.release.id)
    assert release.deploy_team == () and release.rollback_plan is None


async def test_the_final_form_is_prefilled(deps: Deps, clock: FixedClock) -> None:
    earlier = await ready_for_final(deps, "LUMINES 0.9.0")
    await final_sign(deps, earlier, PLAN)
    release_id = await ready_for_final(
        deps, "LUMINES 1.0.0", window="2026-12-01T10:00Z/2026-12-01T12:00Z"
    )
    intent = await SignoffService(deps).prepare(release_id, "cto", "UCTO")
    assert intent.plan == DeploymentPlan(
        datetime(2026, 12, 1, 10, 0, tzinfo=UTC),
        datetime(2026, 12, 1, 12, 0, tzinfo=UTC),
        ("UOPS",),  # the DevOps Lead who signed
        "helm rollback lumines 41",  # the plan last recorded in this channel
    )
    ops = await ReleaseService(deps).open("LUMINES 1.0.1", None, "UREL", CHANNEL)
    assert (await SignoffService(deps).prepare(ops.release.id, "devops_lead", "UOPS")).plan is None


async def test_new_with_a_planned_window(deps: Deps) -> None:
    opened = await ReleaseService(deps).open(
        "LUMINES 1.0.0", None, "UREL", CHANNEL, window="2026-12-01T11:00+01:00/2026-12-01T12:00Z"
    )
    assert opened.created
    assert opened.release.window_start == datetime(2026, 12, 1, 10, 0, tzinfo=UTC)
    assert opened.release.window_end == datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
    assert await load(deps, opened.release.id) == opened.release
    async with deps.db.read() as uow:
        (event,) = await uow.audit.events(opened.release.id)
    assert event.data["window"] == ["2026-12-01T10:00:00+00:00", "2026-12-01T12:00:00+00:00"]


@pytest.mark.parametrize(
    "window",
    ["2026-12-01T10:00/2026-12-01T12:00", "soon", "2026-11-30T10:00Z/2026-11-30T12:00Z"],
)
async def test_new_with_a_bad_window_records_nothing(deps: Deps, window: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        await ReleaseService(deps).open("LUMINES 1.0.0", None, "UREL", CHANNEL, window=window)
    assert "`window=START/END`" in mrkdwn(refused.value.phrase)  # as Slack shows it
    async with deps.db.read() as uow:
        assert await uow.session.scalar(select(func.count()).select_from(ReleaseRow)) == 0
