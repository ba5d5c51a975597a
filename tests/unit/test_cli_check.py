"""`readiness check`'s report: with --section, the section's own readiness."""

from __future__ import annotations

import textwrap
from datetime import UTC, datetime

from bot.config import parse_app_config
from bot.documents.report import CheckReport
from bot.domain.model import ItemStatus, LatestResult
from bot.domain.readiness import assess
from checks import default_registry

CONFIG = """
product: P
roles:
  cto: {title: CTO, members: [U9], final: true}
sections:
  - id: infra
    title: Infrastructure
    items:
      - {id: health, title: Health, check: {type: tcp, host: x, port: 1}}
      - {id: cluster, title: Cluster}
  - id: security
    title: Security
    items:
      - {id: tls, title: TLS, check: {type: tcp, host: x, port: 2}, weight: 3}
      - {id: headers, title: Headers, check: {type: tcp, host: x, port: 3}}
      - {id: pentest, title: Pentest}
"""
APP = parse_app_config(textwrap.dedent(CONFIG), {}, default_registry())
AT = datetime(2026, 1, 1, tzinfo=UTC)


def report(section: str | None, passing: set[str]) -> CheckReport:
    results = {
        item.id: LatestResult(
            item.id, ItemStatus.PASS if item.id in passing else ItemStatus.FAIL, "", AT
        )
        for item in APP.items
        if item.automated
    }
    return CheckReport(assess(APP, results, {}), None, section)


def test_with_a_section_the_figure_is_the_sections_own() -> None:
    # Only the security section was run: the other section's items have no result yet.
    checked = report("security", {"tls"})
    assert checked.readiness.percent == 42  # 3 of 7 weights: the whole checklist's
    assert checked.percent == 60  # 3 of the section's 5 weights
    assert checked.as_json()["readiness"] == 60
    assert checked.summary().startswith(
        "Readiness 60% of section security (1/3 items pass; checklist, no release): "
        "1 blocking item(s) not passing"
    )


def test_rounded_down_like_the_whole_checklist() -> None:
    assert report("security", {"headers"}).percent == 20  # 1 of 5
    assert report("infra", {"health"}).percent == 50
    assert report("infra", set()).percent == 0


def test_without_a_section_the_whole_checklist() -> None:
    whole = report(None, {"tls", "health"})
    assert whole.percent == whole.readiness.percent == 57  # 4 of 7
    assert whole.as_json()["readiness"] == 57
    assert whole.summary().startswith("Readiness 57% (checklist, no release): ")


def test_a_waived_item_shows_waived_never_pass() -> None:
    from datetime import timedelta

    from rich.console import Console

    from bot.documents.report import render_table
    from bot.domain.waivers import Waiver, WaiverState

    waiver = Waiver(
        7, "headers", "U1", "Known, fixed in 1.0.1", timedelta(days=2), AT, None,
        WaiverState.GRANTED, "U9", AT, expires_at=AT + timedelta(days=2),
    )  # fmt: skip
    results = {
        item.id: LatestResult(
            item.id, ItemStatus.FAIL if item.id == "headers" else ItemStatus.PASS, "503", AT
        )
        for item in APP.items
        if item.automated
    }
    checked = CheckReport(assess(APP, results, {}, {"headers": waiver}), None, "security")
    assert checked.ok  # it counts, as the gate counts it
    item = next(i for i in checked.as_json()["items"] if i["id"] == "headers")
    assert item["status"] == "waived" and item["latest"] == "fail"
    assert item["waiver"]["granted_by"] == "U9" and item["waiver"]["id"] == 7
    tls = next(i for i in checked.as_json()["items"] if i["id"] == "tls")
    assert tls["status"] == tls["latest"] == "pass" and tls["waiver"] is None
    assert "passes or is waived (1 waived)" in checked.summary()
    console = Console(record=True, width=200)
    render_table(checked, console)
    row = next(line for line in console.export_text().splitlines() if "Headers" in line)
    assert "waived" in row and "pass" not in row.split("waived")[0]
    assert "by U9 until 2026-01-03 00:00 UTC: Known, fixed in 1.0.1; latest fail: 503" in row
