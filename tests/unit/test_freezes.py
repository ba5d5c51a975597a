"""Change freezes as values: fixed and recurring ones, the occurrence covering now and the
next one, their boundaries, and exceptions that last until the freeze ends."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from pydantic import ValidationError

from bot.domain.cron import Cron
from bot.domain.freezes import (
    Freeze,
    FreezeException,
    current,
    edges,
    holds,
    overlapping,
    upcoming,
)


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


YEAR_END = Freeze.model_validate(
    {
        "id": "year_end",
        "title": "Year-end freeze",
        "from": "2026-12-20T00:00Z",
        "to": "2027-01-04T00:00Z",
    }
)
WEEKEND = Freeze.model_validate(
    {"id": "weekend", "title": "Weekend", "cron": "0 18 * * FRI", "duration": "62h"}
)


def test_a_fixed_freeze_covers_from_its_start_up_to_not_including_its_end() -> None:
    assert YEAR_END.covering(at("2026-12-19T23:59")) is None
    window = YEAR_END.covering(at("2026-12-20T00:00"))
    assert window is not None and window.end == at("2027-01-04T00:00")
    assert YEAR_END.covering(at("2027-01-03T23:59")) is not None
    assert YEAR_END.covering(at("2027-01-04T00:00")) is None


def test_a_fixed_freeze_is_next_only_before_it_begins() -> None:
    assert YEAR_END.next_after(at("2026-12-01T00:00")) == YEAR_END.covering(at("2026-12-25T00:00"))
    assert YEAR_END.next_after(at("2026-12-20T00:00")) is None


def test_a_recurring_freeze_starts_at_its_cron_time_and_lasts_its_duration() -> None:
    friday = at("2026-12-04T18:00")  # a Friday
    assert WEEKEND.covering(friday - timedelta(minutes=1)) is None
    window = WEEKEND.covering(friday)
    assert window is not None
    assert (window.start, window.end) == (friday, at("2026-12-07T08:00"))  # Monday 08:00
    assert WEEKEND.covering(at("2026-12-07T07:59")) == window
    assert WEEKEND.covering(at("2026-12-07T08:00")) is None


def test_the_next_occurrence_of_a_recurring_freeze() -> None:
    window = WEEKEND.next_after(at("2026-12-01T16:19"))  # a Tuesday
    assert window is not None and window.start == at("2026-12-04T18:00")
    during = WEEKEND.next_after(at("2026-12-05T12:00"))  # during one: the week after
    assert during is not None and during.start == at("2026-12-11T18:00")


def test_current_and_upcoming_list_every_freeze_in_order() -> None:
    freezes = [YEAR_END, WEEKEND]
    now = at("2026-12-25T19:00")  # Christmas is a Friday in 2026
    assert [w.freeze_id for w in current(freezes, now)] == ["weekend", "year_end"]
    assert [w.freeze_id for w in upcoming(freezes, now)] == ["weekend"]
    assert [w.freeze_id for w in upcoming(freezes, at("2026-12-01T00:00"))] == [
        "weekend",
        "year_end",
    ]


def test_a_freeze_holds_a_release_until_an_exception_for_it() -> None:
    now = at("2026-12-21T10:00")  # a Monday: only the year-end freeze
    (hold,) = holds([YEAR_END, WEEKEND], [], now)
    assert hold.kind == "change_freeze"
    assert str(hold.phrase()) == "change freeze: Year-end freeze until 2027-01-04 00:00 UTC"
    granted = FreezeException("year_end", at("2027-01-04T00:00"), "U1", "hotfix", now)
    assert holds([YEAR_END, WEEKEND], [granted], now) == []
    # the weekend freeze that follows is not the one excepted
    (weekend,) = holds(
        [YEAR_END, WEEKEND], [granted], at("2026-12-21T10:00") + timedelta(days=4, hours=9)
    )
    assert weekend.freeze_id == "weekend"


def test_an_exception_ends_with_its_occurrence_of_the_freeze() -> None:
    first = WEEKEND.covering(at("2026-12-05T00:00"))
    assert first is not None
    granted = FreezeException("weekend", first.end, "U1", "hotfix", at("2026-12-05T00:00"))
    assert holds([WEEKEND], [granted], at("2026-12-06T00:00")) == []
    assert holds([WEEKEND], [granted], at("2026-12-07T08:00")) == []  # the freeze is over
    assert len(holds([WEEKEND], [granted], at("2026-12-12T00:00"))) == 1  # the next weekend


def test_overlapping_finds_a_freeze_within_a_planned_window() -> None:
    now = at("2026-12-01T09:00")
    found = overlapping([YEAR_END, WEEKEND], at("2026-12-04T17:00"), at("2026-12-04T19:00"), now)
    assert [w.freeze_id for w in found] == ["weekend"]
    assert overlapping([WEEKEND], at("2026-12-02T10:00"), at("2026-12-02T11:00"), now) == []


@pytest.mark.parametrize(
    "raw",
    [
        {"id": "x", "title": "X"},
        {"id": "x", "title": "X", "from": "2026-12-20T00:00Z"},
        {"id": "x", "title": "X", "from": "2026-12-20T00:00Z", "to": "2026-12-19T00:00Z"},
        {"id": "x", "title": "X", "cron": "0 18 * * FRI"},
        {"id": "x", "title": "X", "cron": "0 18 * *", "duration": "1h"},
        {"id": "x", "title": "X", "cron": "61 18 * * FRI", "duration": "1h"},
        {"id": "x", "title": "X", "cron": "0 18 * * FRI", "duration": "1h", "to": "2027-01-01"},
    ],
)
def test_a_freeze_is_fixed_or_recurring_and_whole(raw: dict[str, str]) -> None:
    with pytest.raises(ValidationError):
        Freeze.model_validate(raw)


def test_cron_reads_as_crontab_does() -> None:
    sunday = Cron.parse("30 6 * * 0")
    assert sunday.next_after(at("2026-12-01T00:00")) == at("2026-12-06T06:30")
    assert Cron.parse("30 6 * * 7") == sunday
    steps = Cron.parse("*/15 9-10 * * MON-FRI")
    assert steps.next_after(at("2026-12-04T10:50")) == at("2026-12-07T09:00")
    either = Cron.parse("0 0 13 * FRI")  # the 13th or a Friday
    assert either.next_after(at("2026-12-01T00:00")) == at("2026-12-04T00:00")
    assert Cron.parse("0 0 1 JAN *").last_at_or_before(at("2026-12-01T00:00")) == at(
        "2026-01-01T00:00"
    )


@pytest.mark.parametrize(
    "raw",
    [
        {"id": "short", "title": "Short", "from": "2026-12-01T12:00Z", "to": "2026-12-01T12:30Z"},
        {"id": "short", "title": "Short", "cron": "0 12 * * *", "duration": "30m"},
    ],
)
def test_a_freeze_shorter_than_the_look_back_has_both_its_edges_seen_on_time(
    raw: dict[str, str],
) -> None:
    """Stepping a 15 s tick over the day: the start is seen within a tick of 12:00, the end
    within a tick of 12:30 (it was once seen only at 13:00, an hour after the start)."""
    freeze = Freeze.model_validate(raw)
    noon = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
    seen: dict[datetime, datetime] = {}
    now = noon - timedelta(minutes=5)
    while now < noon + timedelta(hours=2):
        for _, edge in edges([freeze], now - timedelta(hours=1), now):
            seen.setdefault(edge, now)
        now += timedelta(seconds=15)
    assert sorted(seen) == [noon, noon + timedelta(minutes=30)]
    assert all(timedelta(0) <= found - edge < timedelta(seconds=15) for edge, found in seen.items())
