"""coverage: Cobertura XML and coverage.py JSON reports, on disk and served over HTTP."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from pydantic import ValidationError
from standins import REGISTRY, run_one, serve, static_files

from checks import CheckContext, Status

COBERTURA = """<?xml version="1.0" ?>
<!DOCTYPE coverage SYSTEM "https://cobertura.sourceforge.net/xml/coverage-04.dtd">
<coverage version="7.6.1" timestamp="1767225600000" lines-valid="2000" lines-covered="1702"
          line-rate="0.851" branches-covered="0" branches-valid="0" branch-rate="0" complexity="0">
  <sources><source>/src/shop</source></sources>
  <packages>
    <package name="shop" line-rate="0.851" branch-rate="0" complexity="0">
      <classes>
        <class name="cart.py" filename="shop/cart.py" complexity="0" line-rate="0.851"
               branch-rate="0">
          <methods/>
          <lines><line number="1" hits="1"/><line number="2" hits="0"/></lines>
        </class>
      </classes>
    </package>
  </packages>
</coverage>
"""

COVERAGE_PY = {
    "meta": {
        "format": 3,
        "version": "7.6.1",
        "timestamp": "2026-01-01T00:00:00.000000",
        "branch_coverage": False,
        "show_contexts": False,
    },
    "files": {
        "shop/cart.py": {
            "executed_lines": [1, 2, 3],
            "summary": {"covered_lines": 3, "num_statements": 4, "percent_covered": 75.0},
            "missing_lines": [4],
            "excluded_lines": [],
        }
    },
    "totals": {
        "covered_lines": 724,
        "num_statements": 1000,
        "percent_covered": 72.4,
        "percent_covered_display": "72",
        "missing_lines": 276,
        "excluded_lines": 0,
    },
}

BOMB = """<?xml version="1.0"?>
<!DOCTYPE coverage [
  <!ENTITY a "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa">
  <!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">
  <!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;">
]>
<coverage line-rate="1.0" note="&c;"/>
"""


@pytest.fixture
def reports(tmp_path: Path) -> Path:
    (tmp_path / "coverage.xml").write_text(COBERTURA)
    (tmp_path / "coverage.json").write_text(json.dumps(COVERAGE_PY))
    (tmp_path / "bomb.xml").write_text(BOMB)
    (tmp_path / "jacoco.xml").write_text('<report name="shop"><counter type="LINE"/></report>')
    (tmp_path / "notes.txt").write_text("coverage: great\n")
    return tmp_path


@pytest.mark.parametrize(
    ("name", "status", "percent", "verdict", "form"),
    [
        ("coverage.xml", Status.PASS, 85.1, "at least 80%", "cobertura"),
        ("coverage.json", Status.FAIL, 72.4, "needs 80%", "coverage.py"),
    ],
    ids=["cobertura_above_minimum_passes", "coverage_py_json_below_minimum_fails"],
)
async def test_report_on_disk_against_minimum(
    reports: Path,
    ctx: CheckContext,
    name: str,
    status: Status,
    percent: float,
    verdict: str,
    form: str,
) -> None:
    path = str(reports / name)
    result = await run_one(ctx, type="coverage", path=path, min_percent=80)
    assert result.status is status
    assert result.reason == f"{path}: total coverage {percent}%, {verdict}"
    assert result.values == {"percent": percent, "format": form}


async def test_served_report(reports: Path, ctx: CheckContext) -> None:
    async with serve(static_files(reports)) as site:
        xml = await run_one(ctx, type="coverage", url=f"{site}/coverage.xml", min_percent=85.1)
        missing = await run_one(ctx, type="coverage", url=f"{site}/htmlcov.xml", min_percent=80)
    assert xml.status is Status.PASS
    assert xml.reason == "/coverage.xml: total coverage 85.1%, at least 85.1%"
    assert missing.status is Status.ERROR
    assert missing.reason == "GET /htmlcov.xml answered 404 Not Found"


async def test_unreadable_reports_are_errors(reports: Path, ctx: CheckContext) -> None:
    def check(name: str) -> dict[str, object]:
        return {"type": "coverage", "path": str(reports / name), "min_percent": 50}

    bomb = await run_one(ctx, **check("bomb.xml"))
    assert bomb.status is Status.ERROR and "not a readable coverage report" in bomb.reason
    jacoco = await run_one(ctx, **check("jacoco.xml"))
    assert jacoco.reason.endswith("root element <report> is not Cobertura's <coverage line-rate=…>")
    text = await run_one(ctx, **check("notes.txt"))
    assert text.reason.endswith("neither Cobertura XML nor coverage.py JSON")
    missing = await run_one(ctx, **check("nope.xml"))
    assert missing.reason == f"{reports / 'nope.xml'} does not exist"


async def test_reports_over_the_read_limit(reports: Path, ctx: CheckContext) -> None:
    # Cobertura's total sits on the root element, so a cut report still answers;
    # coverage.py's totals come after every file, so a cut one cannot.
    big_xml = COBERTURA.replace("<methods/>", "<methods/>" + "<!-- padding -->" * 10_000)
    (reports / "big.xml").write_text(big_xml)
    big_json = {**COVERAGE_PY, "files": {f"f{i}.py": COVERAGE_PY["files"] for i in range(2000)}}
    (reports / "big.json").write_text(json.dumps(big_json))
    small = CheckContext(ctx.http, max_body_bytes=4096)
    xml = await run_one(small, type="coverage", path=str(reports / "big.xml"), min_percent=80)
    assert xml.status is Status.PASS
    cut = await run_one(small, type="coverage", path=str(reports / "big.json"), min_percent=80)
    assert cut.status is Status.ERROR
    assert cut.reason.endswith("larger than the read limit (its totals come last)")


@pytest.mark.parametrize(
    ("raw", "field"),
    [
        ({"path": "c.xml", "min_percent": 120}, "min_percent"),
        ({"path": "c.xml"}, "min_percent"),
        ({"path": "c.xml", "min_percent": 80, "format": "xml"}, "format"),
    ],
)
def test_bad_parameters(raw: dict[str, object], field: str) -> None:
    with pytest.raises(ValidationError) as raised:
        REGISTRY.parse({"type": "coverage", **raw})
    assert raised.value.errors()[0]["loc"] == (field,)


def test_path_and_url_together_is_a_config_error() -> None:
    with pytest.raises(ValidationError, match="give exactly one of path or url"):
        REGISTRY.parse(
            {"type": "coverage", "path": "c.xml", "url": "http://ci/c.xml", "min_percent": 1}
        )
