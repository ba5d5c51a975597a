"""Standard five-field cron expressions (minute hour day-of-month month day-of-week), in
UTC, as crontab(5) reads them: 0 and 7 are Sunday, names (`FRI`, `JAN`) are allowed, and
when both day fields are restricted a day matching either one matches.

The scheduler has APScheduler for its jobs; the domain (a freeze's times) needs only when
an expression's times fall, and must not load a scheduler for it.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

_DAYS = ["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"]
_MONTHS = ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"]
# (name, lowest, highest, names for lowest + index)
_FIELDS = [
    ("minute", 0, 59, []),
    ("hour", 0, 23, []),
    ("day of month", 1, 31, []),
    ("month", 1, 12, _MONTHS),
    ("day of week", 0, 7, _DAYS),
]


def _number(text: str, low: int, names: list[str], what: str) -> int:
    upper = text.upper()
    if upper in names:
        return low + names.index(upper)
    if not text.isdigit():
        raise ValueError(f"{what}: {text!r} is not a number")
    return int(text)


def _field(text: str, index: int) -> frozenset[int]:
    what, low, high, names = _FIELDS[index]
    values: set[int] = set()
    for part in text.split(","):
        body, _, step_text = part.partition("/")
        step = _number(step_text, 0, [], what) if step_text else 1
        if step < 1:
            raise ValueError(f"{what}: a step must be at least 1")
        if body == "*":
            start, end = low, high
        elif "-" in body:
            first, _, last = body.partition("-")
            start, end = _number(first, low, names, what), _number(last, low, names, what)
        else:
            start = _number(body, low, names, what)
            end = high if step_text else start
        if not low <= start <= end <= high:
            raise ValueError(f"{what}: {part!r} is outside {low}-{high}")
        values.update(range(start, end + 1, step))
    if index == 4 and 7 in values:  # Sunday either way
        values = (values - {7}) | {0}
    return frozenset(values)


@dataclass(frozen=True)
class Cron:
    minutes: frozenset[int]
    hours: frozenset[int]
    days: frozenset[int]
    months: frozenset[int]
    weekdays: frozenset[int]  # 0 = Sunday
    any_day: bool  # day of month is `*`
    any_weekday: bool  # day of week is `*`

    @classmethod
    def parse(cls, expression: str) -> Cron:
        """The expression, or ValueError saying what is wrong with it."""
        parts = expression.split()
        if len(parts) != 5:
            raise ValueError(f"a cron expression has 5 fields, this one has {len(parts)}")
        minutes, hours, days, months, weekdays = (_field(p, i) for i, p in enumerate(parts))
        return cls(minutes, hours, days, months, weekdays, parts[2] == "*", parts[4] == "*")

    def _day_matches(self, day: date) -> bool:
        if day.month not in self.months:
            return False
        by_date = day.day in self.days
        by_weekday = (day.isoweekday() % 7) in self.weekdays
        if self.any_day or self.any_weekday:
            return by_date and by_weekday
        return by_date or by_weekday

    def _times(self, day: date, reverse: bool) -> Iterator[datetime]:
        for hour in sorted(self.hours, reverse=reverse):
            for minute in sorted(self.minutes, reverse=reverse):
                yield datetime.combine(day, time(hour, minute), UTC)

    def next_after(self, moment: datetime, within: timedelta = timedelta(days=1470)) -> datetime:
        """The first time strictly after MOMENT (ValueError: none within WITHIN, e.g.
        `0 0 30 2 *`)."""
        day = moment.astimezone(UTC).date()
        for _ in range(within.days + 1):
            if self._day_matches(day):
                for at in self._times(day, reverse=False):
                    if at > moment:
                        return at
            day += timedelta(days=1)
        raise ValueError("the cron expression has no time in the next four years")

    def last_at_or_before(
        self, moment: datetime, within: timedelta = timedelta(days=1470)
    ) -> datetime | None:
        """The latest time at or before MOMENT, looking back WITHIN at most."""
        day = moment.astimezone(UTC).date()
        for _ in range(within.days + 2):
            if self._day_matches(day):
                for at in self._times(day, reverse=True):
                    if at <= moment:
                        return at if moment - at <= within else None
            day -= timedelta(days=1)
        return None
