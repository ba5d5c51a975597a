"""`coverage`: total coverage, from Cobertura XML or coverage.py JSON, of at least `min_percent`."""

from __future__ import annotations

import io
import json
from typing import Literal
from xml.etree.ElementTree import ParseError

from defusedxml import ElementTree
from pydantic import Field

from checks.base import CheckContext, CheckType, Outcome
from checks.document import SourceMissing, SourceParams, SourceUnreadable, read_source


class CoverageParams(SourceParams):
    type: Literal["coverage"] = "coverage"
    min_percent: float = Field(ge=0, le=100)


def _cobertura(body: bytes) -> float:
    # Only the root element is needed, so a report cut at the size cap still answers.
    _, root = next(ElementTree.iterparse(io.BytesIO(body), events=("start",)))
    if root.tag != "coverage" or "line-rate" not in root.attrib:
        raise ValueError(f"root element <{root.tag}> is not Cobertura's <coverage line-rate=…>")
    return float(root.attrib["line-rate"]) * 100


def _coverage_py(body: bytes, truncated: bool) -> float:
    if truncated:
        raise ValueError("the JSON report is larger than the read limit (its totals come last)")
    totals = json.loads(body).get("totals")
    if not isinstance(totals, dict) or "percent_covered" not in totals:
        raise ValueError("no totals.percent_covered in the JSON")
    return float(totals["percent_covered"])


def percent_of(body: bytes, truncated: bool = False) -> tuple[float, str]:
    """The total percentage and the report's format, told apart by the first character."""
    start = body.lstrip(b"\xef\xbb\xbf \t\r\n")[:1]
    if start == b"<":
        return _cobertura(body), "cobertura"
    if start == b"{":
        return _coverage_py(body, truncated), "coverage.py"
    raise ValueError("neither Cobertura XML nor coverage.py JSON")


def _pct(value: float) -> str:
    return f"{value:.2f}".rstrip("0").rstrip(".") + "%"


async def run(params: CoverageParams, ctx: CheckContext) -> Outcome:
    try:
        read = await read_source(params, ctx)
    except (SourceMissing, SourceUnreadable) as exc:
        return Outcome.errored(str(exc))
    try:
        percent, kind = percent_of(read.body, read.truncated)
    except (ValueError, ParseError, StopIteration) as exc:
        return Outcome.errored(f"{params.source} is not a readable coverage report: {exc}")
    values = {"percent": round(percent, 2), "format": kind}
    if percent < params.min_percent:
        return Outcome.failed(
            f"{params.source}: total coverage {_pct(percent)}, needs {_pct(params.min_percent)}",
            **values,
        )
    return Outcome.passed(
        f"{params.source}: total coverage {_pct(percent)}, at least {_pct(params.min_percent)}",
        **values,
    )


CHECK = CheckType("coverage", CoverageParams, run)
