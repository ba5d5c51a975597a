"""One alert per breach: the items that fail together are one message, edited in place as
they fail or recover; its answers change it; its end is said once."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.domain.errors import InvalidState
from tests.scenario.harness import ThreadedTarget
from tests.services.test_monitor import World, approved_release, target, world_of  # noqa: F401

CONFIG = """
product: LUMINES
roles:
  engineering_lead: {title: Engineering Lead, members: [UENG]}
  devops_lead: {title: DevOps Lead, members: [UOPS]}
  cto: {title: CTO, members: [UCTO], final: true}
sections:
  - id: infra
    title: Infrastructure
    items:
      - {id: health_db, title: Database health, check: {type: http, url: "TARGET/api/health/db"}}
post_deploy:
  items:
    - {id: db_up, title: Database healthy, check: {type: http, url: "TARGET/api/health/db"}}
    - {id: cache_up, title: Cache healthy, check: {type: http, url: "TARGET/api/health/cache"}}
    - {id: nats_up, title: NATS healthy, check: {type: http, url: "TARGET/api/health/nats"}}
  phases:
    - {id: first_hour, title: Immediate (First Hour), duration: 1h, every: 1m}
"""


@pytest.fixture
async def world(tmp_path: Path, target: ThreadedTarget) -> AsyncIterator[World]:  # noqa: F811
    async with world_of(tmp_path, target, CONFIG) as made:
        yield made


async def version(world: World, message_id: int) -> int:
    async with world.deps.db.read() as uow:
        return await uow.monitoring.message_version(message_id)


async def test_three_items_breaking_at_once_are_one_alert_edited_until_they_recover(
    world: World,
) -> None:
    services = world.services()
    release_id = await approved_release(world)
    await services.deploy.mark_deployed(release_id, "UOPS")
    monitor = services.monitor
    await monitor.tick(wait=True)  # all pass
    world.target.state.broken.update({"db", "cache", "nats"})
    world.clock.move(minutes=1)
    await monitor.tick(wait=True)

    (alert,) = [m for m in world.messages(release_id) if m["kind"] == "alert"]
    assert alert["text"].startswith(":rotating_light: <@UOPS> <@UCTO> *")  # called once
    assert alert["text"].count("<@UOPS>") == 1
    message_id = alert["data"]["message"]
    live = await services.outbox.alert(message_id)
    assert live is not None
    shown, _ = live
    assert [line.title for line in shown.failing] == [
        "Database healthy",
        "Cache healthy",
        "NATS healthy",
    ]

    before = await version(world, message_id)
    world.target.state.broken.discard("cache")
    world.clock.move(minutes=1)
    await monitor.tick(wait=True)  # one recovers: the message is edited, nothing posted
    assert [m["kind"] for m in world.messages(release_id)].count("alert") == 1
    assert not [m for m in world.messages(release_id) if m["kind"] == "recovered"]
    assert await version(world, message_id) > before
    live = await services.outbox.alert(message_id)
    assert live is not None and [line.title for line in live[0].failing] == [
        "Database healthy",
        "NATS healthy",
    ]

    await monitor.answer_breach(release_id, message_id, "UOPS", rollback=False)
    live = await services.outbox.alert(message_id)
    assert live is not None and live[0].acknowledged_by == "UOPS"
    with pytest.raises(InvalidState, match="already acknowledged"):
        await monitor.answer_breach(release_id, message_id, "UCTO", rollback=False)

    world.target.state.broken.clear()
    world.clock.move(minutes=1)
    await monitor.tick(wait=True)  # the rest recover: closed, said once
    kinds = [m["kind"] for m in world.messages(release_id)]
    assert kinds.count("alert") == 1 and kinds.count("recovered") == 1
    (recovered,) = [m["text"] for m in world.messages(release_id) if m["kind"] == "recovered"]
    assert "recovered on *LUMINES 1.0.0*: every post-deploy item passes again" in recovered
    live = await services.outbox.alert(message_id)
    assert live is not None and live[0].closed_at is not None and not live[0].failing

    # A new breach after that is a new message.
    world.target.state.broken.add("db")
    world.clock.move(minutes=1)
    await monitor.tick(wait=True)
    assert [m["kind"] for m in world.messages(release_id)].count("alert") == 2


async def test_rolling_back_shows_on_the_card(world: World) -> None:
    services = world.services()
    release_id = await approved_release(world)
    await services.deploy.mark_deployed(release_id, "UOPS")
    world.target.state.broken.add("db")
    await services.monitor.tick(wait=True)
    (alert,) = [m for m in world.messages(release_id) if m["kind"] == "alert"]
    await services.monitor.answer_breach(release_id, alert["data"]["message"], "UCTO", True)
    view = await services.releases.view(release_id)
    assert view.monitoring is not None and view.monitoring.rollback is not None
    assert view.monitoring.rollback.user == "UCTO"
