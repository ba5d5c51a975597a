"""A GitHub Actions job waiting on a release is answered once, whichever of two replicas
answers it, and what GitHub refuses for good is not sent again; while a change freeze
holds the release, the job is not approved."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import timedelta
from typing import Any

import pytest

from bot.db import Database
from bot.domain.authorization import DeploymentPlan
from bot.domain.freezes import Freeze
from bot.domain.github import Gate, GitHubSettings, Verdict
from bot.domain.model import ReleaseState
from bot.github.api import GitHubRefused
from bot.services.container import Services
from bot.services.deps import Deps
from bot.services.freezes import FreezeService
from bot.services.github import GitHubService
from bot.services.records import load_release, load_view
from bot.services.signoff import SignoffService
from bot.services.waivers import WaiverService
from bot.web.schemas import gate_json
from tests.services.conftest import FixedClock, make_ready, sign_all_but_final

SHA = "a1b2c3d4e5f60718293a4b5c6d7e8f9012345678"
# The clock starts on Tuesday 08:00 UTC: this freeze covers it until 09:00.
MAINTENANCE = Freeze.model_validate(
    {"id": "maintenance", "title": "Tuesday maintenance", "cron": "0 7 * * TUE", "duration": "2h"}
)


class Recorder:
    """GitHub's review endpoint: records what it took; refuses when told to."""

    def __init__(self) -> None:
        self.reviews: list[tuple[int, str | None]] = []
        self.comments: list[str] = []
        self.refuse = False

    async def review(
        self,
        repository: str,
        run_id: int,
        installation: int,
        environment: str,
        state: str | None,
        comment: str,
    ) -> None:
        await asyncio.sleep(0.01)  # a call takes a while: the other replica runs meanwhile
        if self.refuse:
            raise GitHubRefused("GitHub answered 422: the run was cancelled")
        self.reviews.append((run_id, state))
        self.comments.append(comment)


def payload(run_id: int) -> dict[str, Any]:
    return {
        "action": "requested",
        "environment": "production",
        "sha": SHA,
        "deployment_callback_url": f"https://api.github.com/repos/acme/lumines/actions/runs/"
        f"{run_id}/deployment_protection_rule",
        "repository": {"full_name": "acme/lumines", "html_url": "https://github.com/acme/lumines"},
        "installation": {"id": 7},
    }


@pytest.fixture
def freezes() -> list[Freeze]:
    """The product's change freezes (a test parametrizes it to have one)."""
    return []


@pytest.fixture
async def replicas(
    deps: Deps, freezes: list[Freeze]
) -> AsyncIterator[tuple[GitHubService, GitHubService, Recorder]]:
    settings = deps.settings
    app = settings.app.model_copy(
        update={
            "github": GitHubSettings(repositories=["acme/lumines"], environments=["production"]),
            "freezes": freezes,
        }
    )
    catalog = replace(settings.catalog, products={settings.catalog.only or "": app})
    deps.use(settings.model_copy(update={"catalog": catalog}))
    other = Database(deps.settings.env.database_url)
    github = Recorder()
    made = []
    for d in (
        replace(deps, replica="first"),
        replace(deps, db=other, replica="second", products={}),
    ):
        services = Services.build(d)
        made.append(GitHubService(d, services.releases, services.deploy, github))  # type: ignore[arg-type]
    yield made[0], made[1], github
    await deps.tasks.drain()  # the opened release's checks, before the databases close
    await other.close()


async def approve(deps: Deps, release_id: int) -> None:
    async with deps.db.write() as uow:
        await uow.releases.set_state(release_id, ReleaseState.APPROVED, deps.clock.now())


async def test_two_replicas_answer_a_waiting_job_once(
    replicas: tuple[GitHubService, GitHubService, Recorder],
) -> None:
    one, two, github = replicas
    assert await one.receive("d1", "deployment_protection_rule", payload(11))
    assert not await two.receive("d1", "deployment_protection_rule", payload(11))  # redelivered
    await asyncio.gather(one.handle(), two.handle())
    async with one.deps.db.read() as uow:
        release = await uow.releases.by_ref("lumines_wis2l", SHA)
        assert release is not None and release.name == f"lumines {SHA[:7]}"
        (gate,) = await uow.github.gates_of(release.id)
    assert gate.waiting and github.reviews == []
    await approve(one.deps, release.id)
    await asyncio.gather(one.answer(), two.answer(), one.answer(), two.answer())
    assert github.reviews == [(11, "approved")]
    async with one.deps.db.read() as uow:
        (gate,) = await uow.github.gates_of(release.id)
    assert gate.sent_at is not None


async def test_a_refusal_for_good_is_recorded_and_not_sent_again(
    replicas: tuple[GitHubService, GitHubService, Recorder],
) -> None:
    one, two, github = replicas
    await one.receive("d2", "deployment_protection_rule", payload(12))
    await one.handle()
    async with one.deps.db.read() as uow:
        release = await uow.releases.by_ref("lumines_wis2l", SHA)
    assert release is not None
    await approve(one.deps, release.id)
    github.refuse = True
    await one.answer()
    github.refuse = False
    await asyncio.gather(one.answer(), two.answer())
    assert github.reviews == []
    async with one.deps.db.read() as uow:
        (gate,) = await uow.github.gates_of(release.id)
    assert gate.refused is not None and "cancelled" in gate.refused


async def signed(service: GitHubService, run_id: int) -> int:
    """A job waits on the release GitHub opened for it; every role signs it: approved."""
    deps = service.deps
    await service.receive(f"d{run_id}", "deployment_protection_rule", payload(run_id))
    await service.handle()
    await deps.tasks.drain()  # the opened release's own checks first
    async with deps.db.read() as uow:
        release = await uow.releases.by_ref("lumines_wis2l", SHA)
    assert release is not None
    await make_ready(deps, release.id)
    await sign_all_but_final(deps, release.id)
    now = deps.clock.now()
    plan = DeploymentPlan(now, now + timedelta(hours=3), ("UOPS",), "helm rollback lumines")
    attestations = deps.settings.app.roles["cto"].attestations
    await SignoffService(deps).sign(release.id, "cto", "UCTO", attestations, None, plan)
    async with deps.db.read() as uow:
        assert (await uow.releases.get(release.id)).state is ReleaseState.APPROVED  # type: ignore[union-attr]
    return release.id


async def gate_of(service: GitHubService, release_id: int) -> Gate:
    async with service.deps.db.read() as uow:
        (gate,) = await uow.github.gates_of(release_id)
    return gate


@pytest.mark.parametrize("freezes", [[MAINTENANCE]])
async def test_a_freeze_holds_the_job_until_the_final_roles_exception(
    replicas: tuple[GitHubService, GitHubService, Recorder],
) -> None:
    one, two, github = replicas
    release_id = await signed(one, 13)
    async with one.deps.db.read() as uow:
        view = await load_view(uow, one.deps.settings.app, await load_release(uow, release_id))
    status, answer = gate_json(view)
    assert status == 409 and answer["reasons"] == [
        "change freeze: Tuesday maintenance until 2026-12-01 09:00 UTC"
    ]
    await asyncio.gather(one.answer(), two.answer())
    assert (13, "approved") not in github.reviews  # the gate is closed by the freeze
    assert (await gate_of(one, release_id)).waiting
    assert github.reviews == [(13, None)]  # a progress report: held by the freeze
    assert github.comments == [
        f"lumines {SHA[:7]} is approved, but the change freeze Tuesday maintenance holds it"
        " until 2026-12-01 09:00 UTC. The job waits for the freeze to end, or for the final"
        " approver's exception."
    ]
    await one.answer()
    assert github.reviews == [(13, None)]  # said once

    await FreezeService(one.deps).grant(release_id, "UCTO", "Security fix, cannot wait")
    await asyncio.gather(one.answer(), two.answer())
    assert github.reviews == [(13, None), (13, "approved")]
    gate = await gate_of(one, release_id)
    assert gate.verdict is Verdict.APPROVED and gate.sent_at is not None


@pytest.mark.parametrize("freezes", [[MAINTENANCE]])
async def test_a_job_held_by_a_freeze_is_approved_once_it_ends(
    replicas: tuple[GitHubService, GitHubService, Recorder], clock: FixedClock
) -> None:
    one, _, github = replicas
    release_id = await signed(one, 14)
    await one.answer()
    assert (await gate_of(one, release_id)).waiting
    clock.advance(hours=1)  # 09:00: the maintenance is over
    await one.answer()
    assert github.reviews == [(14, None), (14, "approved")]


async def test_a_job_is_not_approved_once_the_waiver_it_relied_on_expired(
    replicas: tuple[GitHubService, GitHubService, Recorder], clock: FixedClock
) -> None:
    """Between a waiver's expiry and the tick that records it, the release is still stored
    approved; GitHub's answer must already be what the gate says."""
    one, _, github = replicas
    deps = one.deps
    await one.receive("d15", "deployment_protection_rule", payload(15))
    await one.handle()
    await deps.tasks.drain()
    async with deps.db.read() as uow:
        release = await uow.releases.by_ref("lumines_wis2l", SHA)
    assert release is not None
    await make_ready(deps, release.id)
    async with deps.db.write() as uow:
        await uow.checks.add_result(
            release.id, None, "health_db", "fail", "HTTP 503", {}, 1.0, clock.now()
        )
    waivers = WaiverService(deps)
    asked = await waivers.request(release.id, "health_db", "UENG", "1h", "Known outage")
    await waivers.answer(release.id, asked.waiver.id, "USEC", grant=True)
    await sign_all_but_final(deps, release.id)
    now = clock.now()
    plan = DeploymentPlan(now, now + timedelta(hours=3), ("UOPS",), "helm rollback lumines")
    attestations = deps.settings.app.roles["cto"].attestations
    await SignoffService(deps).sign(release.id, "cto", "UCTO", attestations, None, plan)
    clock.advance(hours=2)  # the waiver expired; no tick has recorded it yet
    await one.answer()
    assert (15, "approved") not in github.reviews
    assert github.reviews == [(15, None)]  # a progress report: suspended
    assert (await gate_of(one, release.id)).waiting
