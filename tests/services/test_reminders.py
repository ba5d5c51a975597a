"""Reminders: one a day in the channel for all its releases, and in a release's thread as
its deployment window nears; never twice."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import func, select

from bot.config import load_settings
from bot.db.tables import MarkRow, OutboxRow
from bot.domain.authorization import DeploymentPlan
from bot.domain.model import ReleaseState
from bot.domain.notices import DailyReminder, WaitingFor, decode, encode
from bot.domain.notices.reminders import FreezeOverlap
from bot.services.deps import Deps
from bot.services.releases import ReleaseService
from bot.services.reminders import ReminderService
from bot.services.signoff import SignoffService
from bot.slack.blocks.notices import render
from tests.services.conftest import (
    CHANNEL,
    ENV,
    ROOT,
    T0,
    FixedClock,
    make_ready,
    sign_all_but_final,
    thread,
)


async def open_release(deps: Deps, name: str, window: str | None = None) -> int:
    opened = await ReleaseService(deps).open(name, None, "UREL", CHANNEL, window=window)
    return opened.release.id


async def marks(deps: Deps, release_id: int) -> list[str]:
    async with deps.db.read() as uow:
        rows = await uow.session.scalars(
            select(MarkRow.key).where(MarkRow.release_id == release_id).order_by(MarkRow.id)
        )
        return list(rows.all())


async def daily_posts(deps: Deps) -> list[str]:
    """The daily reminders queued (one per channel and day), as Slack shows them."""
    async with deps.db.read() as uow:
        rows = await uow.session.execute(
            select(OutboxRow.kind, OutboxRow.data)
            .where(OutboxRow.kind == "daily_reminder")
            .order_by(OutboxRow.id)
        )
        found = []
        for kind, data in rows.all():
            notice = decode(kind, data)
            assert isinstance(notice, DailyReminder)
            text, blocks = render(notice)
            found.append(text + "\n" + "\n".join(b["text"]["text"] for b in blocks or []))
        return found


async def test_daily_reminder_names_pending_roles_and_mentions_who_can_sign(deps: Deps) -> None:
    release = await open_release(deps, "LUMINES 1.0.0")
    attestations = deps.settings.app.roles["engineering_lead"].attestations
    await SignoffService(deps).sign(release, "engineering_lead", "UENG", attestations, None)
    assert await ReminderService(deps).daily() == 1
    (reminder,) = await daily_posts(deps)
    assert reminder.startswith(":bell: Sign-offs waiting: 1 release")
    assert "<@UOPS> as DevOps Lead: *LUMINES 1.0.0*" in reminder
    assert "<@USEC> as Security Lead: *LUMINES 1.0.0*" in reminder
    assert "<@UENG>" not in reminder  # UENG holds Engineering Lead already
    assert "<@UPRD> as Product Owner" in reminder and "<!subteam^SPRODUCT> as Product" in reminder
    assert "• *LUMINES 1.0.0* 0% · waiting for DevOps Lead, Security Lead, Product Owner" in (
        reminder
    )
    assert "<@UCTO>" not in reminder  # the final approver's turn comes after the others
    assert await marks(deps, release) == ["reminder:2026-12-01"]
    async with deps.db.read() as uow:
        where = await uow.session.scalars(
            select(OutboxRow.in_thread).where(OutboxRow.kind == "daily_reminder")
        )
        assert where.all() == [False]  # in the channel, not in a release's thread


async def test_one_reminder_for_every_release_waiting_for_someone(deps: Deps) -> None:
    """37 releases waiting for the same people: one message, each person once, linking
    each release's card; not 37 thread posts pinging them 37 times."""
    ids = [await open_release(deps, f"LUMINES 1.0.{n}") for n in range(37)]
    async with deps.db.write() as uow:
        for n, release_id in enumerate(ids):
            await uow.releases.card_sent(release_id, 1, f"1700000000.{n:06d}")
    assert await ReminderService(deps).daily() == 37
    (reminder,) = await daily_posts(deps)
    assert reminder.startswith(":bell: Sign-offs waiting: 37 releases")
    assert reminder.count("<@UOPS>") == 1
    assert "<@UOPS> as DevOps Lead: *LUMINES 1.0.0*, *LUMINES 1.0.1*" in reminder
    assert "and 32 more" in reminder  # each person's line names a few, and counts the rest
    link = "• <https://slack.com/archives/CRELEASE/p1700000000000003|*LUMINES 1.0.3*> 0%"
    assert link in reminder
    assert "LUMINES 1.0.36" in reminder and "more: `/readiness list`" not in reminder
    async with deps.db.read() as uow:
        queued = await uow.session.scalar(select(func.count()).select_from(OutboxRow))
    assert queued == 1


async def test_daily_reminder_once_per_release_per_utc_date(deps: Deps, clock: FixedClock) -> None:
    first = await open_release(deps, "LUMINES 1.0.0")
    await open_release(deps, "LUMINES 1.0.1")
    reminders = ReminderService(deps)
    assert await reminders.daily() == 2
    assert await reminders.daily() == 0
    clock.advance(hours=15, minutes=59)  # 23:59 UTC, the same date
    assert await ReminderService(deps).daily() == 0  # a restarted bot: the marks remember
    clock.advance(minutes=1)  # 00:00 UTC the next day
    assert await reminders.daily() == 2
    assert await marks(deps, first) == ["reminder:2026-12-01", "reminder:2026-12-02"]
    assert len(await daily_posts(deps)) == 2  # one a day for both


async def test_overlapping_runs_post_each_reminder_once(deps: Deps) -> None:
    for n in range(3):
        await open_release(deps, f"LUMINES 1.0.{n}")
    reminders = ReminderService(deps)
    again = ReminderService(deps)
    counts = await asyncio.gather(reminders.daily(), reminders.daily(), again.daily())
    assert sum(counts) == 3


async def test_settled_and_approved_releases_are_not_reminded(deps: Deps) -> None:
    approved = await open_release(deps, "LUMINES 2.0.0")
    await make_ready(deps, approved)
    await sign_all_but_final(deps, approved)
    attestations = deps.settings.app.roles["cto"].attestations
    await SignoffService(deps).sign(approved, "cto", "UCTO", attestations, None, plan(deps))
    cancelled = await open_release(deps, "LUMINES 2.0.1")
    await ReleaseService(deps).cancel(cancelled, "UREL")
    assert await ReminderService(deps).daily() == 0
    assert await daily_posts(deps) == []


async def test_blocked_release_is_reminded_with_its_rejection(deps: Deps) -> None:
    release = await open_release(deps, "LUMINES 1.0.0")
    await SignoffService(deps).reject(release, "USEC", "pen test pending")
    assert await ReminderService(deps).daily() == 1
    (reminder,) = await daily_posts(deps)
    assert "*LUMINES 1.0.0* is blocked until <@USEC> withdraw(s) the rejection" in reminder


async def test_the_final_approver_is_mentioned_once_the_others_signed(deps: Deps) -> None:
    release = await open_release(deps, "LUMINES 1.0.0")
    await sign_all_but_final(deps, release)
    assert await ReminderService(deps).daily() == 1
    (reminder,) = await daily_posts(deps)
    assert "<@UCTO> as CTO/Engineering Manager: *LUMINES 1.0.0*" in reminder
    assert "<@UREL>" not in reminder  # who opened the release can't give its final approval


async def test_daily_reminder_mentions_a_freeze_overlapping_a_planned_window(
    deps: Deps, tmp_path: Path
) -> None:
    config = tmp_path / "frozen.yaml"
    config.write_text(
        (ROOT / "app.yaml").read_text()
        + "\nfreezes:\n  - {id: year_end, title: Year-end freeze, "
        + "from: 2026-12-20T00:00Z, to: 2027-01-04T00:00Z}\n"
    )
    env = {**ENV, "DATABASE_URL": deps.settings.env.database_url}
    deps.use(load_settings(config, env=env))
    await open_release(deps, "LUMINES 1.0.0", "2026-12-21T10:00Z/2026-12-21T12:00Z")
    await open_release(deps, "LUMINES 1.0.1", "2026-12-10T10:00Z/2026-12-10T12:00Z")
    blocked = await open_release(deps, "LUMINES 1.0.2", "2027-01-03T22:00Z/2027-01-04T02:00Z")
    await SignoffService(deps).reject(blocked, "USEC", "pen test pending")
    await open_release(deps, "LUMINES 1.0.3")  # no planned window
    assert await ReminderService(deps).daily() == 4
    (reminder,) = await daily_posts(deps)
    start = int(datetime(2026, 12, 20, tzinfo=UTC).timestamp())
    end = int(datetime(2027, 1, 4, tzinfo=UTC).timestamp())
    freeze = (
        f":warning: Year-end freeze (from <!date^{start}^{{date_short_pretty}} {{time}}"
        f"|2026-12-20 00:00 UTC> until <!date^{end}^{{date_short_pretty}} {{time}}"
        "|2027-01-04 00:00 UTC>) overlaps the planned window of "
    )
    lines = reminder.splitlines()
    warned = [line for line in lines if line.startswith(":warning:")]
    assert warned == [f"{freeze}*LUMINES 1.0.0*", f"{freeze}*LUMINES 1.0.2*"]
    # each right under its release's line
    assert lines[lines.index(warned[0]) - 1].startswith("• *LUMINES 1.0.0* 0% · waiting for")
    assert lines[lines.index(warned[1]) - 1].startswith(":no_entry: *LUMINES 1.0.2* is blocked")


def test_a_daily_reminder_queued_before_freezes_were_named_still_decodes() -> None:
    notice = DailyReminder(
        (WaitingFor((), user="UOPS"),),
        freezes=(FreezeOverlap("LUMINES 1.0.0", "Year-end freeze", T0, T0 + timedelta(days=1)),),
    )
    data = encode(notice)
    assert decode("daily_reminder", data) == notice
    del data["freezes"]  # as an older version stored it
    older = decode("daily_reminder", data)
    assert isinstance(older, DailyReminder) and older.freezes == ()
    assert "Year-end freeze" in str(notice.phrase()) and "freeze" not in str(older.phrase())


async def test_window_lead_reminder_once_as_the_planned_window_nears(
    deps: Deps, clock: FixedClock
) -> None:
    soon = await open_release(deps, "LUMINES 1.0.0", "2026-12-01T11:00Z/2026-12-01T13:00Z")
    later = await open_release(deps, "LUMINES 1.0.1", "2026-12-02T11:00Z/2026-12-02T13:00Z")
    unplanned = await open_release(deps, "LUMINES 1.0.2")
    reminders = ReminderService(deps)
    assert deps.settings.app.schedules.window_lead == timedelta(hours=2)
    assert await reminders.window_soon() == 0  # 08:00: the window is three hours away
    clock.advance(hours=1)  # 09:00: two hours before
    assert await reminders.window_soon() == 1
    assert await reminders.window_soon() == 0
    clock.advance(minutes=30)
    assert await ReminderService(deps).window_soon() == 0
    reminder = (await thread(deps, soon))[-1]
    assert reminder.startswith(
        ":alarm_clock: The deployment window of *LUMINES 1.0.0* starts <!date^1796122800^"
    )
    assert "still pending: *Engineering Lead* <@UENG> <@UENG2>" in reminder
    assert await marks(deps, soon) == ["window-lead"]
    assert await thread(deps, later) == [] and await thread(deps, unplanned) == []
    clock.advance(hours=2)  # 11:30: the window has started; no late "starts soon"
    assert await reminders.window_soon() == 0
    clock.at = clock.at.replace(day=2, hour=10)
    assert await reminders.window_soon() == 1
    assert await marks(deps, later) == ["window-lead"]


async def test_window_lead_skips_a_release_signed_meanwhile(deps: Deps, clock: FixedClock) -> None:
    release = await open_release(deps, "LUMINES 1.0.0", "2026-12-01T09:00Z/2026-12-01T10:00Z")
    await make_ready(deps, release)
    await sign_all_but_final(deps, release)
    await SignoffService(deps).sign(
        release, "cto", "UCTO", deps.settings.app.roles["cto"].attestations, None, plan=plan(deps)
    )
    async with deps.db.read() as uow:
        assert (await uow.releases.get(release)).state is ReleaseState.APPROVED  # type: ignore[union-attr]
    assert await ReminderService(deps).window_soon() == 0


def plan(deps: Deps) -> DeploymentPlan:
    now = deps.clock.now()
    return DeploymentPlan(now, now + timedelta(hours=2), ("UOPS",), "helm rollback lumines")
