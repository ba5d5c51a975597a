"""ExportService over a real database: a deployed release through its first phase (a
breach, its answer, the digest), read back as the sign-off document."""

from __future__ import annotations

from datetime import timedelta

import pytest

from bot.documents.json_export import render_json
from bot.documents.markdown import render_markdown
from bot.domain.errors import NotFound
from bot.services.audit import verify_chain
from bot.services.deps import Deps
from bot.services.export import ExportService
from bot.services.releases import ReleaseService
from bot.services.signoff import SignoffService
from tests.services.conftest import CHANNEL, T0, FixedClock
from tests.services.test_monitor import World, approved_release, target, world

__all__ = ["target", "world"]  # the fixtures, shared with test_monitor


async def test_the_document_carries_digests_alerts_and_the_audit_head(world: World) -> None:
    services = world.services()
    release_id = await approved_release(world)
    await services.deploy.mark_deployed(release_id, "UOPS")
    monitor = services.monitor
    await monitor.tick(wait=True)  # 10:00
    world.clock.move(minutes=2)
    world.target.state.broken.add("db")
    await monitor.tick(wait=True)  # 10:02 a breach
    breach = next(m["data"]["message"] for m in world.messages(release_id) if m["kind"] == "alert")
    await monitor.answer_breach(release_id, breach, "UOPS", rollback=False)
    world.target.state.broken.clear()
    for _ in range(4):  # 10:04 … 10:10: recovered, then the first hour's digest
        world.clock.move(minutes=2)
        await monitor.tick(wait=True)
    world.clock.move(seconds=30)
    await monitor.tick(wait=True)

    document = await ExportService(world.deps).document(release_id)
    (digest,) = document.digests
    assert (digest.phase_id, digest.title) == ("first_hour", "Immediate (First Hour)")
    runs = {i.id: (i.runs, i.passed) for i in digest.items}
    assert runs == {"db_up": (5, 4), "error_rate": (5, 5)}
    (alert,) = document.alerts
    assert (alert.item_id, alert.acknowledged_by) == ("db_up", "UOPS")
    assert alert.recovered_at is not None
    assert set(document.post_results) == {"db_up", "error_rate"}
    chain = await verify_chain(world.deps.db)
    assert (document.audit.head, document.audit.events) == (chain.head, chain.events)

    markdown = render_markdown(document)
    assert "## 4. Post-Deployment Monitoring\n\n### 4.1 Immediate (First Hour)" in markdown
    assert "digest posted 2026-12-01 10:10 UTC" in markdown
    assert "- [ ] Database healthy — passed 4/5 runs" in markdown
    assert "**Digest:** 1/2 post-deploy items passed every run, 1 breach(es)" in markdown
    assert "- Database healthy: opened 2026-12-01 10:02 UTC" in markdown
    assert "### 4.2 Extended (First 24 Hours)\n\n_In progress:" in markdown
    data = render_json(document)
    assert data["post_deploy"]["phases"][0]["digest"]["items"][0]["runs"] == 5
    assert data["release"]["state"] == "monitoring"

    same = await ExportService(world.deps).document_named("lumines  1.0.0")
    assert same.view.release.id == release_id
    with pytest.raises(NotFound, match="There is no release named “LUMINES 9”"):
        await ExportService(world.deps).document_named("LUMINES 9")


async def test_a_withdrawn_rejection_stays_in_the_record(deps: Deps, clock: FixedClock) -> None:
    """The export's history keeps a rejection its author withdrew, with when, beside the
    one still standing."""
    opened = await ReleaseService(deps).open("LUMINES 1.0.0", "abc123", "UREL", CHANNEL)
    release_id = opened.release.id
    signoff = SignoffService(deps)
    await signoff.reject(release_id, "UENG", "Load test missing")
    clock.advance(minutes=5)
    await signoff.withdraw_rejection(release_id, "UENG")
    await signoff.reject(release_id, "USEC", "Pen test pending")

    document = await ExportService(deps).document(release_id)
    assert [r.user_id for r in document.view.rejections] == ["USEC"]
    (withdrawn,) = document.withdrawn_rejections
    assert (withdrawn.user_id, withdrawn.reason) == ("UENG", "Load test missing")
    assert withdrawn.withdrawn_at == T0 + timedelta(minutes=5)
    markdown = render_markdown(document)
    rejections = markdown.split("Rejections\n", 1)[1].split("---", 1)[0]
    assert "`USEC`" in rejections and "Pen test pending" in rejections
    assert "`UENG`" in rejections and "withdrawn 2026-12-01 08:05 UTC:" in rejections
    assert "Load test missing" in rejections and "None." not in rejections
    data = render_json(document)["signoff"]
    assert [r["reason"] for r in data["rejections"]] == ["Pen test pending"]
    (shown,) = data["withdrawn_rejections"]
    assert shown["reason"] == "Load test missing"
    assert shown["withdrawn_at"].startswith("2026-12-01T08:05")
