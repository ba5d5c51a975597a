"""The layout holds: arrows point one way, the domain loads no I/O library, only the config
reads the environment, the domain and the services say what happened without Slack's
syntax, and no module grows past what one concept needs."""

from __future__ import annotations

import ast
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SLACK_OR_STORAGE = ("slack_bolt", "slack_sdk", "sqlalchemy", "aiosqlite", "bot.slack", "bot.db")
SURFACES = ("bot.slack", "bot.web", "bot.cli", "bot.documents", "bot.runtime.wiring")
MAX_LINES = 400


def sources(*folders: str) -> list[Path]:
    return sorted(p for folder in folders for p in (ROOT / folder).rglob("*.py"))


def imports(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


@pytest.mark.parametrize("path", sources("bot/domain", "checks"), ids=str)
def test_pure_layers_stay_pure(path: Path) -> None:
    bad = [
        n
        for n in imports(path)
        if n.startswith(SLACK_OR_STORAGE) or n.startswith(("bot.services", *SURFACES))
    ]
    assert not bad, f"{path.relative_to(ROOT)} imports {bad}"


@pytest.mark.parametrize("path", sources("bot/services", "bot/db"), ids=str)
def test_services_and_storage_know_no_surface(path: Path) -> None:
    bad = [n for n in imports(path) if n.startswith(SURFACES)]
    if path.parts[-2] == "db":
        bad += [n for n in imports(path) if n.startswith("bot.services")]
    assert not bad, f"{path.relative_to(ROOT)} imports {bad}"


def test_importing_the_domain_loads_no_database_http_or_slack_library() -> None:
    """Every module of bot.domain, imported in a fresh interpreter (what it pulls in
    transitively counts too)."""
    program = (
        "import importlib, pkgutil, sys, bot.domain\n"
        "for m in pkgutil.walk_packages(bot.domain.__path__, 'bot.domain.'):\n"
        "    importlib.import_module(m.name)\n"
        "heavy = {'sqlalchemy', 'httpx', 'slack_sdk', 'slack_bolt', 'aiohttp', 'aiosqlite'}\n"
        "print(sorted(heavy & {name.split('.')[0] for name in sys.modules}))\n"
    )
    found = subprocess.run(
        [sys.executable, "-c", program], cwd=ROOT, capture_output=True, text=True, timeout=60
    )
    assert found.returncode == 0, found.stderr
    assert found.stdout.strip() == "[]"
    acceptance = (
        "import bot.domain, sys; assert not {'sqlalchemy','httpx','slack_sdk'} & set(sys.modules)"
    )
    assert subprocess.run([sys.executable, "-c", acceptance], cwd=ROOT).returncode == 0


def test_only_config_reads_the_environment() -> None:
    offenders = [
        p.relative_to(ROOT)
        for p in sources("bot", "checks")
        if re.search(r"os\.environ|os\.getenv|getenv\(", p.read_text())
        and p.relative_to(ROOT) != Path("bot/config.py")
        and "fake_slack" not in p.parts
    ]
    assert offenders == []


def _literals(path: Path) -> Iterator[tuple[int, str]]:
    """The string literals of a module that are not docstrings, with their lines."""
    tree = ast.parse(path.read_text())
    docstrings = {
        id(node.body[0].value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef)
        and node.body
        and isinstance(node.body[0], ast.Expr)
        and isinstance(node.body[0].value, ast.Constant)
    }
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            if id(node) not in docstrings:
                yield node.lineno, node.value


SLACK_SYNTAX = re.compile(r"<[@!#]|`|:[a-z_]+:")


@pytest.mark.parametrize("path", sources("bot/domain", "bot/services"), ids=str)
def test_domain_and_services_write_no_slack_syntax(path: Path) -> None:
    """Mentions, dates, user groups, code and emoji are Slack's to render (bot/slack/blocks);
    the domain and the services say what happened as values and phrases."""
    found = [(line, text) for line, text in _literals(path) if SLACK_SYNTAX.search(text)]
    assert found == [], f"{path.relative_to(ROOT)}: {found}"


@pytest.mark.parametrize(
    "path",
    sorted(
        p
        for folder in ("bot", "checks")
        for p in (ROOT / folder).rglob("*")
        if p.is_file() and p.suffix in (".py", ".js", ".css", ".html")
    ),
    ids=str,
)
def test_no_module_outgrows_one_concept(path: Path) -> None:
    lines = len(path.read_text().splitlines())
    assert lines <= MAX_LINES, f"{path.relative_to(ROOT)} has {lines} lines"
