"""Durations as people write them in app.yaml: 500ms, 30s, 10m, 1h, 7d (or 1h30m)."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Annotated, Any

from pydantic import BeforeValidator, PlainSerializer

_UNITS = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400}
_PART = re.compile(r"(\d+(?:\.\d+)?)(ms|s|m|h|d)")
_WHOLE = re.compile(r"(?:\d+(?:\.\d+)?(?:ms|s|m|h|d))+")


def parse_duration(value: Any) -> timedelta:
    """Parse '500ms', '30s', '10m', '1h', '7d' or a combination like '1h30m'."""
    if isinstance(value, timedelta):
        return value
    text = str(value).strip().replace(" ", "") if isinstance(value, str) else None
    if not text or not _WHOLE.fullmatch(text):
        raise ValueError(
            f"bad duration {value!r}: write a number and a unit, like 500ms, 30s, 10m, 1h or 7d"
        )
    seconds = sum(float(n) * _UNITS[unit] for n, unit in _PART.findall(text))
    if seconds <= 0:
        raise ValueError(f"bad duration {value!r}: must be more than zero")
    return timedelta(seconds=seconds)


def format_duration(value: timedelta) -> str:
    """The shortest exact spelling of a duration: 90s -> '1m30s'."""
    ms = round(value.total_seconds() * 1000)
    if ms % 1000:
        return f"{ms}ms"
    seconds, parts = ms // 1000, []
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60), ("s", 1)):
        if seconds >= size:
            parts.append(f"{seconds // size}{unit}")
            seconds %= size
    return "".join(parts) or "0s"


Duration = Annotated[
    timedelta,
    BeforeValidator(parse_duration),
    PlainSerializer(format_duration, return_type=str),
]
