"""Numbers with their units: what a measured value and its threshold read like.

An item says what its check measures (`unit:` in app.yaml): `ms` or `s` (a duration),
`ratio` (a fraction, shown as a percentage), `percent` (already a percentage), `count`,
`bytes`. A Prometheus result then reads "900 ms (limit < 500 ms)" instead of
"1 of 1 sample not < 0.5: {job="lumines"} = 0.9".
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any, Literal

Unit = Literal["ms", "s", "percent", "ratio", "count", "bytes"]
SHOWN = 3  # samples a reason names before "and N more"
OP_WORDS = {"<": "<", "<=": "≤", ">": ">", ">=": "≥", "==": "=", "!=": "≠"}


def _figure(value: float) -> str:
    """Three significant digits, thousands grouped: 0.0004, 12.3, 912, 1,234,567."""
    if abs(value) >= 100:
        return f"{value:,.0f}"
    shown = f"{value:.3g}"
    return shown if "e" not in shown else f"{value:.8f}".rstrip("0").rstrip(".")


def quantity(value: float, unit: Unit | None) -> str:
    """A measured value as a person reads it."""
    if not math.isfinite(value):
        return "NaN" if math.isnan(value) else ("+∞" if value > 0 else "−∞")
    if unit == "s":
        return quantity(value * 1000, "ms") if abs(value) < 1 else f"{_figure(value)} s"
    if unit == "ms":
        return f"{_figure(value / 1000)} s" if abs(value) >= 10_000 else f"{_figure(value)} ms"
    if unit == "ratio":
        return f"{_figure(value * 100)}%"
    if unit == "percent":
        return f"{_figure(value)}%"
    if unit == "bytes":
        for size, name in ((1 << 30, "GiB"), (1 << 20, "MiB"), (1 << 10, "KiB")):
            if abs(value) >= size:
                return f"{_figure(value / size)} {name}"
        return f"{value:.0f} B"
    return _figure(value)


def _number(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value)
    if value in ("NaN", "+Inf", "-Inf"):
        return float(value.replace("Inf", "inf").replace("NaN", "nan"))
    return None


def limit(op: str, threshold: float, unit: Unit | None) -> str:
    return f"limit {OP_WORDS.get(op, op)} {quantity(threshold, unit)}"


def measured(status: str, reason: str, values: Mapping[str, Any], unit: Unit | None) -> str:
    """A Prometheus result's reason in the item's unit: the value (the worst, or the ones
    breaking the limit, by their labels) and the limit. Anything else, and any item
    without a unit, keeps the check's own words."""
    op, threshold = values.get("op"), _number(values.get("threshold"))
    samples = values.get("samples")
    if unit is None or not isinstance(op, str) or threshold is None:
        return reason
    if not isinstance(samples, Mapping) or not samples:
        return reason
    numbers = {label: n for label, raw in samples.items() if (n := _number(raw)) is not None}
    bound = limit(op, threshold, unit)
    if len(numbers) == 1:
        (value,) = numbers.values()
        return f"{quantity(value, unit)} ({bound})"
    if status == "pass":
        worst = _number(values.get("worst"))
        shown = f"worst {quantity(worst, unit)}, " if worst is not None else ""
        return f"{len(numbers)} series, {shown}{bound}"
    broken = [(label, n) for label, n in numbers.items() if not _meets(n, op, threshold)]
    broken.sort(key=lambda pair: -pair[1] if op in ("<", "<=") else pair[1])
    named = ", ".join(f"{label} {quantity(n, unit)}" for label, n in broken[:SHOWN])
    more = f" and {len(broken) - SHOWN} more" if len(broken) > SHOWN else ""
    total = int(values.get("count") or len(numbers))
    return f"{len(broken)} of {total} series breaking the {bound}: {named}{more}"


def _meets(value: float, op: str, threshold: float) -> bool:
    if math.isnan(value):
        return False
    return {
        "<": value < threshold,
        "<=": value <= threshold,
        ">": value > threshold,
        ">=": value >= threshold,
        "==": value == threshold,
        "!=": value != threshold,
    }.get(op, True)
