"""Change freezes (app.yaml `freezes`): when one covers now, no release is authorized to
deploy, unless the final role granted that release an exception for that freeze.

A freeze is fixed (`from`/`to`) or recurs (`cron` starts it, it lasts `duration`); times
are UTC. An exception lasts until the freeze's occurrence it was granted in ends.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import ClassVar

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from bot.domain.cron import Cron
from bot.domain.text import Moment, Phrase, phrase
from checks.durations import Duration


class Freeze(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    id: str = Field(min_length=1, max_length=60, pattern=r"^[A-Za-z0-9_.-]+$")
    title: str = Field(min_length=1, max_length=80)
    start: datetime | None = Field(default=None, alias="from")
    end: datetime | None = Field(default=None, alias="to")
    cron: str | None = None
    duration: Duration | None = None

    @field_validator("start", "end")
    @classmethod
    def _utc(cls, value: datetime | None) -> datetime | None:
        """A time without a zone is UTC."""
        if value is not None and value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value

    @field_validator("cron")
    @classmethod
    def _cron(cls, value: str | None) -> str | None:
        if value is not None:
            Cron.parse(value)  # ValueError: says what is wrong
        return value

    @model_validator(mode="after")
    def _one_kind(self) -> Freeze:
        fixed = self.start is not None or self.end is not None
        recurring = self.cron is not None or self.duration is not None
        if fixed == recurring:
            raise ValueError("a freeze has either from and to, or cron and duration")
        if fixed and (self.start is None or self.end is None or self.end <= self.start):
            raise ValueError("a freeze needs both from and to, to after from")
        if recurring and (self.cron is None or not self.duration):
            raise ValueError("a recurring freeze needs both cron and a duration above 0")
        return self

    def covering(self, now: datetime) -> FreezeWindow | None:
        """The occurrence of this freeze that covers NOW (start <= now < end), if any."""
        if self.start is not None and self.end is not None:
            return self._window(self.start, self.end) if self.start <= now < self.end else None
        assert self.cron is not None and self.duration is not None
        began = Cron.parse(self.cron).last_at_or_before(now, self.duration)
        if began is None or now >= began + self.duration:
            return None
        return self._window(began, began + self.duration)

    def next_after(self, now: datetime) -> FreezeWindow | None:
        """The first occurrence starting after NOW (None: a fixed freeze already begun)."""
        if self.start is not None and self.end is not None:
            return self._window(self.start, self.end) if self.start > now else None
        assert self.cron is not None and self.duration is not None
        try:
            began = Cron.parse(self.cron).next_after(now)
        except ValueError:
            return None
        return self._window(began, began + self.duration)

    def ended_between(self, since: datetime, now: datetime) -> datetime | None:
        """When an occurrence of this freeze ended in SINCE < time <= NOW, if one did."""
        if self.start is not None and self.end is not None:
            return self.end if since < self.end <= now else None
        assert self.cron is not None and self.duration is not None
        began = Cron.parse(self.cron).last_at_or_before(now - self.duration, now - since)
        if began is None or not since < began + self.duration <= now:
            return None
        return began + self.duration

    def _window(self, start: datetime, end: datetime) -> FreezeWindow:
        return FreezeWindow(self.id, self.title, start, end)


@dataclass(frozen=True)
class FreezeWindow:
    """One occurrence of a freeze."""

    freeze_id: str
    title: str
    start: datetime
    end: datetime

    def overlaps(self, start: datetime, end: datetime) -> bool:
        return self.start < end and start < self.end


@dataclass(frozen=True)
class FreezeException:
    """The final role let one release deploy during one freeze, until it ends."""

    freeze_id: str
    ends_at: datetime  # the end of the freeze's occurrence it was granted in
    granted_by: str
    reason: str
    granted_at: datetime
    title: str = ""  # the freeze's title when it was granted

    def covers(self, window: FreezeWindow) -> bool:
        return self.freeze_id == window.freeze_id and self.ends_at >= window.end


@dataclass(frozen=True)
class ChangeFreeze:
    """A reason the gate is closed: a freeze covers now, and the release has no exception."""

    freeze_id: str
    title: str
    until: datetime
    kind: ClassVar[str] = "change_freeze"

    def phrase(self) -> Phrase:
        return phrase(f"change freeze: {self.title} until ", Moment(self.until))


def current(freezes: Sequence[Freeze], now: datetime) -> list[FreezeWindow]:
    """The freezes covering NOW, the one ending first first."""
    windows = [w for f in freezes if (w := f.covering(now)) is not None]
    return sorted(windows, key=lambda w: (w.end, w.freeze_id))


def upcoming(freezes: Sequence[Freeze], now: datetime) -> list[FreezeWindow]:
    """Each freeze's next occurrence after NOW, soonest first."""
    windows = [w for f in freezes if (w := f.next_after(now)) is not None]
    return sorted(windows, key=lambda w: (w.start, w.freeze_id))


def holds(
    freezes: Sequence[Freeze], exceptions: Sequence[FreezeException], now: datetime
) -> list[ChangeFreeze]:
    """Why a release may not deploy at NOW: each freeze covering it the release has no
    exception for."""
    return [
        ChangeFreeze(w.freeze_id, w.title, w.end)
        for w in current(freezes, now)
        if not any(e.covers(w) for e in exceptions)
    ]


def overlapping(
    freezes: Sequence[Freeze], start: datetime, end: datetime, now: datetime
) -> list[FreezeWindow]:
    """Occurrences (current or next) that overlap the window START..END."""
    found = [*current(freezes, now), *upcoming(freezes, now)]
    return [w for w in found if w.overlaps(start, end)]


def edges(freezes: Sequence[Freeze], since: datetime, now: datetime) -> list[tuple[str, datetime]]:
    """(freeze id, time) of each freeze starting or ending in SINCE < time <= NOW: when
    what a card says of freezes changes."""
    found = []
    for freeze in freezes:
        began = freeze.covering(now)
        if began is not None and since < began.start <= now:
            found.append((freeze.id, began.start))
        ended = freeze.ended_between(since, now)
        if ended is not None:
            found.append((freeze.id, ended))
    return sorted(found, key=lambda edge: edge[1])
