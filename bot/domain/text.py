"""Text as the domain speaks it: sentences whose people, names, code and times are marked,
so each surface renders them its own way (Slack: live mentions and dates, user text
escaped; the terminal, logs and the API: plain words), and cleaning what people typed.

A `Phrase` is a sequence of parts: plain strings and the marked values below. Its
`str()` is the plain rendering; `bot/slack/blocks/text.py` renders it as Slack mrkdwn.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

# Control characters, and the bidirectional overrides and isolates that would reorder what
# others read (U+202A-U+202E, U+2066-U+2069).
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\u202a-\u202e\u2066-\u2069]")


@dataclass(frozen=True)
class Marked:
    """A value in a sentence that each surface shows its own way; `text` is the value."""

    text: str


class Person(Marked):
    """A Slack user: `text` is the user id."""

    @property
    def user(self) -> str:
        return self.text


class Group(Marked):
    """A Slack user group, by id."""


class Channel(Marked):
    """A Slack channel, by id."""


class Code(Marked):
    """A command, a ref, an id: shown as code."""


class Strong(Marked):
    """A name or title the reader looks for: a release, a role, an item."""


class Aside(Marked):
    """A remark set off from the sentence (italics in Slack)."""


class Quote(Marked):
    """What a person wrote (a comment, a reason), set apart on lines of its own."""


@dataclass(frozen=True)
class Moment:
    at: datetime


Part = str | Person | Group | Channel | Code | Strong | Aside | Moment | Quote


@dataclass(frozen=True)
class Phrase:
    parts: tuple[Part, ...] = ()

    def __str__(self) -> str:
        return "".join(plain_part(part) for part in self.parts)

    def __add__(self, other: Phrase) -> Phrase:
        return Phrase(self.parts + other.parts)

    def __bool__(self) -> bool:
        return any(self.parts)


def phrase(*parts: Part | Phrase) -> Phrase:
    """Parts (and phrases, spliced in) as one phrase."""
    flat: list[Part] = []
    for part in parts:
        flat.extend(part.parts if isinstance(part, Phrase) else (part,))
    return Phrase(tuple(flat))


def joined(items: Iterable[Part | Phrase], separator: str = ", ") -> Phrase:
    """Items separated by SEPARATOR."""
    out: list[Part | Phrase] = []
    for index, item in enumerate(items):
        if index:
            out.append(separator)
        out.append(item)
    return phrase(*out)


def listed(items: Sequence[Part | Phrase], shown: int, more: str = " and {n} more") -> Phrase:
    """The first SHOWN items, then "and N more" for the rest: never a silent cut."""
    head = joined(items[:shown])
    rest = len(items) - shown
    return phrase(head, more.format(n=rest)) if rest > 0 else head


def stamp(at: datetime) -> str:
    return at.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


def plain_part(part: Part) -> str:
    """A part in plain words: what a pipeline log or a terminal shows."""
    if isinstance(part, str):
        return part
    if isinstance(part, Moment):
        return stamp(part.at)
    if isinstance(part, Quote):
        return "“" + " ".join(part.text.split()) + "”"
    if isinstance(part, Person | Group):
        return "@" + part.text
    if isinstance(part, Channel):
        return "#" + part.text
    return part.text  # code, names, asides: their words


def people(phrase_: Phrase) -> Iterator[str]:
    """The user ids a phrase names."""
    return (part.user for part in phrase_.parts if isinstance(part, Person))


def clean(text: str) -> str:
    """Strip control characters and surrounding space from text a person typed."""
    return _CONTROL.sub("", text).strip()


def truncate(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"
