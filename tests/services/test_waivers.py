"""Waivers over real storage: an approver asks, another answers (never the requester); a
granted waiver counts its item as passing until it expires, is withdrawn, or the ref moves;
then an approved release whose item fails is suspended and the gate names the waiver."""

from __future__ import annotations

import asyncio
import json
from dataclasses import replace
from datetime import timedelta

import pytest

from bot.db import Database
from bot.db.outbox import WAIVER
from bot.documents.json_export import render_json
from bot.documents.markdown import render_markdown
from bot.domain.authorization import DeploymentPlan
from bot.domain.errors import InvalidInput, InvalidState, NotAuthorized, NotFound
from bot.domain.model import ItemStatus, ReleaseState
from bot.domain.view import ReleaseView
from bot.domain.waivers import WaiverState
from bot.services.deploy import DeployService
from bot.services.deps import Deps
from bot.services.export import ExportService
from bot.services.monitor import MonitorService
from bot.services.outbox import OutboxService
from bot.services.records import load_release, load_view
from bot.services.releases import ReleaseService
from bot.services.signoff import SignoffService
from bot.services.waivers import WaiverService
from bot.web.schemas import gate_json, release_json
from tests.services.conftest import (
    CHANNEL,
    T0,
    FixedClock,
    make_ready,
    sign_all_but_final,
    thread,
)

HOUR = timedelta(hours=1)
REASON = "Known outage, fix in 1.0.1"


async def failing_db(deps: Deps) -> int:
    """A release whose every item passes but the blocking health_db."""
    opened = await ReleaseService(deps).open("LUMINES 1.0.0", "abc123", "UREL", CHANNEL)
    release_id = opened.release.id
    await make_ready(deps, release_id)
    async with deps.db.write() as uow:
        await uow.checks.add_result(
            release_id, None, "health_db", ItemStatus.FAIL.value, "HTTP 503", {}, 1.0, T0
        )
    return release_id


async def view(deps: Deps, release_id: int) -> ReleaseView:
    async with deps.db.read() as uow:
        return await load_view(uow, deps.settings.app, await load_release(uow, release_id))


async def audit_kinds(deps: Deps, release_id: int) -> list[str]:
    async with deps.db.read() as uow:
        return [event.kind for event in await uow.audit.events(release_id)]


async def sign_final(deps: Deps, release_id: int) -> None:
    attestations = deps.settings.app.roles["cto"].attestations
    plan = DeploymentPlan(T0 + HOUR, T0 + 3 * HOUR, ("UOPS",), "helm rollback lumines")
    await SignoffService(deps).sign(release_id, "cto", "UCTO", attestations, None, plan)


async def waived(deps: Deps) -> tuple[int, int]:
    release_id = await failing_db(deps)
    waivers = WaiverService(deps)
    asked = await waivers.request(release_id, "health_db", "UENG", "2d", REASON)
    await waivers.answer(release_id, asked.waiver.id, "USEC", grant=True)
    return release_id, asked.waiver.id


async def test_the_acceptance_waive_approve_sign_gate_export(deps: Deps) -> None:
    release_id = await failing_db(deps)
    waivers = WaiverService(deps)
    asked = await waivers.request(release_id, "health_db", "UENG", "2d", REASON)
    assert asked.waiver.state is WaiverState.REQUESTED
    # The requester holds Security Lead too, and still may not answer their own request.
    with pytest.raises(NotAuthorized, match="another approver"):
        await waivers.answer(release_id, asked.waiver.id, "UENG", grant=True)
    # Not an approver of waivers (the DevOps Lead): refused.
    with pytest.raises(NotAuthorized, match="Security Lead"):
        await waivers.answer(release_id, asked.waiver.id, "UOPS", grant=True)
    granted = await waivers.answer(release_id, asked.waiver.id, "USEC", grant=True)
    assert granted.waiver.expires_at == T0 + timedelta(days=2)
    shown = next(v for v in granted.view.readiness.items if v.item.id == "health_db")
    assert shown.waived and shown.passing and shown.status is ItemStatus.FAIL
    assert granted.view.readiness.percent == 100
    await sign_all_but_final(deps, release_id)
    await sign_final(deps, release_id)
    final = await view(deps, release_id)
    assert final.release.state is ReleaseState.APPROVED
    status, answer = gate_json(final)
    assert status == 200, answer
    api = release_json(final)
    item = next(i for i in api["items"] if i["id"] == "health_db")
    assert item["status"] == "waived" and item["latest"] == "fail"
    assert item["waiver"]["granted_by"] == "USEC" and item["waiver"]["reason"] == REASON
    assert item["waiver"]["until"] == (T0 + timedelta(days=2)).isoformat()
    passing = next(i for i in api["items"] if i["id"] == "health_app")
    assert passing["status"] == passing["latest"] == "pass" and passing["waiver"] is None
    (listed,) = api["waivers"]
    assert listed["state"] == "granted" and listed["duration"] == "2d"
    assert listed["requested_by"] == "UENG" and listed["decided_by"] == "USEC"
    assert listed["item"] == "health_db" and listed["ended_at"] is None
    exported = await ExportService(deps).document(release_id)
    text = render_markdown(exported)
    assert "**waived**" in text and REASON in text and "2026-12-03 08:00 UTC" in text
    assert render_json(exported)["waivers"][0]["state"] == "granted"
    assert "All blocking checks passing (1 item(s) waived)" in text
    # Section 9: each signature says it was given with the waiver in force.
    assert text.count("with `health_db` waived") == 5
    items = [i for s in render_json(exported)["sections"] for i in s["items"]]
    item = next(i for i in items if i["id"] == "health_db")
    assert item["status"] == "waived" and item["latest"] == "fail"
    assert item["waiver"]["granted_by"] == {"user": "USEC", "name": None}
    kinds = await audit_kinds(deps, release_id)
    assert kinds.index("waiver.requested") < kinds.index("waiver.granted")
    said = await thread(deps, release_id)
    assert any("asks to waive" in m and REASON in m for m in said)
    assert any("granted the waiver" in m for m in said)


async def test_expiry_suspends_the_approved_release_and_the_gate_names_it(
    deps: Deps, clock: FixedClock
) -> None:
    release_id, _ = await waived(deps)
    await sign_all_but_final(deps, release_id)
    await sign_final(deps, release_id)
    clock.advance(days=2)
    # Before the tick records it, the gate already judges the waiver over.
    before = await view(deps, release_id)
    status, answer = gate_json(before)
    assert status == 409
    assert any("waiver of Database health" in r and "expired" in r for r in answer["reasons"])
    (detail,) = [d for d in answer["reasons_detail"] if d["kind"] == "waiver_ended"]
    assert type(detail["how"]) is str and detail["how"] == "expired"
    assert detail["item_id"] == "health_db" and detail["at"] == (T0 + 2 * 24 * HOUR).isoformat()
    json.dumps(answer)
    api = release_json(before)  # the API says how the waiver stands, recorded yet or not
    assert api["waivers"][0]["state"] == "expired"
    assert api["waivers"][0]["ended_at"] == detail["at"]
    item = next(i for i in api["items"] if i["id"] == "health_db")
    assert item["status"] == "fail" and item["waiver"] is None
    assert await WaiverService(deps).expire() == 1
    assert await WaiverService(deps).expire() == 0  # once
    after = await view(deps, release_id)
    assert after.release.state is ReleaseState.SUSPENDED
    status, answer = gate_json(after)
    assert status == 409
    kinds = [d["kind"] for d in answer["reasons_detail"]]
    assert "waiver_ended" in kinds and "blocking_items" in kinds
    assert "waiver.expired" in await audit_kinds(deps, release_id)
    text = render_markdown(await ExportService(deps).document(release_id))
    assert "**expired**" in text and "Expired 2026-12-03 08:00 UTC" in text
    assert "**waived**" not in text
    said = await thread(deps, release_id)
    assert any("expired" in m and "counts by its latest result" in m for m in said)
    assert any("suspended" in m for m in said)


async def test_the_grantor_withdraws_and_only_the_grantor(deps: Deps) -> None:
    release_id, waiver_id = await waived(deps)
    waivers = WaiverService(deps)
    with pytest.raises(NotAuthorized, match="who granted it"):
        await waivers.withdraw(release_id, waiver_id, "UCTO")
    after = await waivers.withdraw(release_id, waiver_id, "USEC")
    assert after.readiness.blocking_not_passing
    with pytest.raises(InvalidState, match="no longer in force"):
        await waivers.withdraw(release_id, waiver_id, "USEC")
    assert "waiver.withdrawn" in await audit_kinds(deps, release_id)
    exported = await ExportService(deps).document(release_id)
    text = render_markdown(exported)
    assert "**withdrawn**" in text and "Withdrawn by `USEC`" in text
    (listed,) = render_json(exported)["waivers"]
    assert listed["state"] == "withdrawn" and listed["ended_by"] == {"user": "USEC", "name": None}


async def test_a_new_ref_ends_the_waiver(deps: Deps) -> None:
    release_id, _ = await waived(deps)
    await ReleaseService(deps).open("LUMINES 1.0.0", "def456", "UREL", CHANNEL)
    after = await view(deps, release_id)
    assert [w.state for w in after.waivers] == [WaiverState.REF_CHANGED]
    assert after.readiness.blocking_not_passing


async def test_a_denial_needs_a_reason_and_refusals_record_nothing(deps: Deps) -> None:
    release_id = await failing_db(deps)
    waivers = WaiverService(deps)
    before = await audit_kinds(deps, release_id)
    with pytest.raises(InvalidInput, match="reason"):
        await waivers.request(release_id, "health_db", "UENG", "2d", "  ")
    with pytest.raises(InvalidInput, match="at most 14d"):
        await waivers.request(release_id, "health_db", "UENG", "15d", REASON)
    with pytest.raises(InvalidInput, match="duration"):
        await waivers.request(release_id, "health_db", "UENG", "soon", REASON)
    with pytest.raises(InvalidState, match="passing"):
        await waivers.request(release_id, "health_app", "UENG", "1d", REASON)
    with pytest.raises(NotFound, match="no checklist item"):
        await waivers.request(release_id, "health_dbx", "UENG", "1d", REASON)
    with pytest.raises(NotAuthorized, match="approvers"):
        await waivers.request(release_id, "health_db", "UNOBODY", "1d", REASON)
    assert await audit_kinds(deps, release_id) == before
    asked = await waivers.request(release_id, "health_db", "UENG", "1d", REASON)
    with pytest.raises(InvalidState, match="already asked for"):
        await waivers.request(release_id, "health_db", "UOPS", "1d", REASON)
    with pytest.raises(InvalidInput, match="reason"):
        await waivers.answer(release_id, asked.waiver.id, "USEC", grant=False, reason="")
    denied = await waivers.answer(release_id, asked.waiver.id, "USEC", False, "Fix it first")
    assert denied.waiver.state is WaiverState.DENIED
    with pytest.raises(InvalidState, match="already denied"):
        await waivers.answer(release_id, asked.waiver.id, "UCTO", grant=True)
    after = await view(deps, release_id)
    assert after.readiness.blocking_not_passing
    (listed,) = release_json(after)["waivers"]
    assert listed["state"] == "denied" and listed["denial"] == "Fix it first"
    text = render_markdown(await ExportService(deps).document(release_id))
    assert "**denied**" in text and "Denied by `USEC`" in text and "> Fix it first" in text


async def test_a_signature_given_before_the_waiver_goes_stale(deps: Deps) -> None:
    release_id = await failing_db(deps)
    await sign_all_but_final(deps, release_id)
    waivers = WaiverService(deps)
    asked = await waivers.request(release_id, "health_db", "UENG", "1d", REASON)
    granted = await waivers.answer(release_id, asked.waiver.id, "USEC", grant=True)
    stale = {s.signature.user_id: s.staleness for s in granted.view.stale}
    assert set(stale) == {"UENG", "UOPS", "USEC", "UPRD"}
    assert str(stale["UENG"].phrase()).startswith("Database health")
    (granted_notice,) = [m for m in await thread(deps, release_id) if "granted the waiver" in m]
    assert "given before it and must be given again: <@UENG> (Engineering Lead)" in granted_notice


async def test_two_replicas_recording_an_expiry_at_once_record_it_once(
    deps: Deps, clock: FixedClock
) -> None:
    release_id, _ = await waived(deps)
    await sign_all_but_final(deps, release_id)
    await sign_final(deps, release_id)
    other = Database(deps.settings.env.database_url)
    try:
        second = replace(deps, db=other, replica="second", products={})
        clock.advance(days=2, seconds=1)
        ended = await asyncio.gather(WaiverService(deps).expire(), WaiverService(second).expire())
    finally:
        await other.close()
    assert sorted(ended) == [0, 1]
    kinds = await audit_kinds(deps, release_id)
    assert kinds.count("waiver.expired") == 1
    assert kinds.count("release.state") == 2  # open -> approved, approved -> suspended
    said = await thread(deps, release_id)
    assert sum("expired" in m for m in said) == 1
    assert sum("suspended" in m for m in said) == 1


async def test_a_waiver_expiring_after_the_deploy_changes_no_record(
    deps: Deps, clock: FixedClock
) -> None:
    release_id, _ = await waived(deps)
    await sign_all_but_final(deps, release_id)
    await sign_final(deps, release_id)
    await DeployService(deps, MonitorService(deps)).mark_deployed(release_id, "UOPS")
    clock.advance(days=3)
    assert await WaiverService(deps).expire() == 1  # recorded, as history
    after = await view(deps, release_id)
    assert after.release.state is ReleaseState.DEPLOYED
    status, _ = gate_json(after)
    assert status == 200
    assert [w.state for w in after.waivers] == [WaiverState.EXPIRED]
    assert not any("expired" in m for m in await thread(deps, release_id))
    await deps.tasks.drain()  # the monitoring the deploy started, before the database closes


async def test_a_waiver_that_expired_before_the_ref_moved_is_recorded_expired(
    deps: Deps, clock: FixedClock
) -> None:
    release_id, _ = await waived(deps)
    clock.advance(days=3)  # expired; no tick yet
    await ReleaseService(deps).open("LUMINES 1.0.0", "def456", "UREL", CHANNEL)
    after = await view(deps, release_id)
    assert [w.state for w in after.waivers] == [WaiverState.EXPIRED]
    assert after.waivers[0].ended_at == T0 + timedelta(days=2)
    assert "waiver.expired" in await audit_kinds(deps, release_id)
    assert "waiver.ref_changed" not in await audit_kinds(deps, release_id)


async def test_the_request_message_is_edited_at_each_change_once_posted(
    deps: Deps, clock: FixedClock
) -> None:
    """The request in the thread is edited in place, as an alert is: each answer or end is
    a new version for the sender, and one it has sent is not pending again."""
    outbox = OutboxService(deps)
    release_id = await failing_db(deps)
    waivers = WaiverService(deps)
    asked = await waivers.request(release_id, "health_db", "UENG", "2d", REASON)
    waiver_id = asked.waiver.id
    live = await outbox.live(WAIVER, waiver_id)
    assert live is not None
    shown, version = live
    assert shown.waiver.state is WaiverState.REQUESTED and shown.request.user == "UENG"
    await outbox.edit_posted(WAIVER, waiver_id, "1.5", version)
    assert await outbox.edits() == []  # as posted: nothing to edit yet

    await waivers.answer(release_id, waiver_id, "USEC", grant=True)
    (edit,) = await outbox.edits()
    assert (edit.kind, edit.id, edit.ts, edit.channel) == (WAIVER, waiver_id, "1.5", CHANNEL)
    assert edit.version == version + 1
    live = await outbox.live(WAIVER, waiver_id)
    assert live is not None and live[0].waiver.state is WaiverState.GRANTED
    await outbox.edit_sent(WAIVER, waiver_id, edit.version)
    assert await outbox.edits() == []

    clock.advance(days=3)
    assert await waivers.expire() == 1
    (edit,) = await outbox.edits()
    assert edit.version == version + 2
    live = await outbox.live(WAIVER, waiver_id)
    assert live is not None and live[0].waiver.state is WaiverState.EXPIRED
    await outbox.edit_sent(WAIVER, waiver_id, version + 1)  # an older version lands late
    assert [e.version for e in await outbox.edits()] == [version + 2]


async def test_a_request_left_unanswered_when_the_release_is_cancelled_loses_its_buttons(
    deps: Deps,
) -> None:
    outbox = OutboxService(deps)
    release_id = await failing_db(deps)
    asked = await WaiverService(deps).request(release_id, "health_db", "UENG", "2d", REASON)
    live = await outbox.live(WAIVER, asked.waiver.id)
    assert live is not None and live[0].unanswerable is None
    await outbox.edit_posted(WAIVER, asked.waiver.id, "1.5", live[1])
    await ReleaseService(deps).cancel(release_id, "UREL")
    (edit,) = await outbox.edits()
    assert (edit.id, edit.version) == (asked.waiver.id, live[1] + 1)
    now = await outbox.live(WAIVER, asked.waiver.id)
    assert now is not None and now[0].unanswerable == "the release was cancelled"
    assert now[0].waiver.state is WaiverState.REQUESTED  # nothing recorded of it
