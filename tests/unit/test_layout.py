"""The arrows point one way: domain/ and checks/ import neither Slack nor SQLAlchemy."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
FORBIDDEN = ("slack_bolt", "slack_sdk", "sqlalchemy", "aiosqlite", "bot.slack", "bot.db")


def imports(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


@pytest.mark.parametrize(
    "path",
    sorted([*(ROOT / "bot" / "domain").glob("*.py"), *(ROOT / "checks").glob("*.py")]),
    ids=str,
)
def test_pure_layers_stay_pure(path: Path) -> None:
    bad = [n for n in imports(path) if n.startswith(FORBIDDEN) or n.startswith("bot.services")]
    assert not bad, f"{path.relative_to(ROOT)} imports {bad}"


def test_only_config_reads_the_environment() -> None:
    offenders = [
        p.relative_to(ROOT)
        for p in sorted((ROOT / "bot").rglob("*.py"))
        if "os.environ" in p.read_text() and p.name != "config.py" and "fake_slack" not in p.parts
    ]
    assert offenders == []
