"""A GitHub Actions job waiting on a release is answered once, whichever of two replicas
answers it, and what GitHub refuses for good is not sent again."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import replace
from typing import Any

import pytest

from bot.db import Database
from bot.domain.github import GitHubSettings
from bot.domain.model import ReleaseState
from bot.github.api import GitHubRefused
from bot.services.container import Services
from bot.services.deps import Deps
from bot.services.github import GitHubService

SHA = "a1b2c3d4e5f60718293a4b5c6d7e8f9012345678"


class Recorder:
    """GitHub's review endpoint: records what it took; refuses when told to."""

    def __init__(self) -> None:
        self.reviews: list[tuple[int, str | None]] = []
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
async def replicas(deps: Deps) -> AsyncIterator[tuple[GitHubService, GitHubService, Recorder]]:
    settings = deps.settings
    app = settings.app.model_copy(
        update={
            "github": GitHubSettings(repositories=["acme/lumines"], environments=["production"])
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
