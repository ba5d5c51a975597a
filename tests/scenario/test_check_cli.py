"""`readiness check` in a terminal: the shipped checklist against the LUMINES target."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from bot.config import load_app_config
from tests.scenario.conftest import Slack
from tests.scenario.harness import ROOT, Bot, ThreadedTarget, target_env

APP = load_app_config(ROOT / "app.yaml", env={})
CHECKLIST_ONLY = pytest.mark.sqlite(reason="the checklist alone, on a SQLite file of its own")


@pytest.fixture(scope="module")
def broken_target() -> Iterator[ThreadedTarget]:
    served = ThreadedTarget()
    served.state.broken.update({"db", "ci"})
    served.start()
    yield served
    served.stop()


def readiness(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bot", "check", *args],
        env={**os.environ, "COLUMNS": "220", **env},
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )


def shipped(target: ThreadedTarget, tmp: Path) -> dict[str, str]:
    return {
        "READINESS_CONFIG": str(ROOT / "app.yaml"),
        "DATABASE_URL": f"sqlite+aiosqlite:///{tmp / 'cli.db'}",
        **target_env(target, tmp),
    }


def as_json(done: subprocess.CompletedProcess[str]) -> dict[str, Any]:
    return json.loads(done.stdout)  # type: ignore[no-any-return]


@CHECKLIST_ONLY
def test_every_seed_item_is_reported_and_every_automated_one_passes(
    target: ThreadedTarget, tmp_path: Path
) -> None:
    done = readiness(shipped(target, tmp_path), "--json")
    assert done.returncode == 0, done.stderr + done.stdout
    report = as_json(done)
    assert [i["id"] for i in report["items"]] == [i.id for i in APP.items]
    automated = [i for i in report["items"] if i["automated"]]
    assert len(automated) >= 35
    assert {i["id"]: i["status"] for i in automated} == {i["id"]: "pass" for i in automated}
    assert all(i["status"] == "pending" for i in report["items"] if not i["automated"])
    weights = {i.id: i.weight for i in APP.items}
    expected = sum(weights[i["id"]] for i in automated) * 100 // sum(weights.values())
    assert report["readiness"] == expected and report["release"] is None and report["ok"]


@CHECKLIST_ONLY
def test_the_table_names_each_section_and_says_why_it_exits(
    broken_target: ThreadedTarget, tmp_path: Path
) -> None:
    done = readiness(shipped(broken_target, tmp_path))
    assert done.returncode == 1, done.stderr
    out = done.stdout
    for section in APP.sections:
        assert section.title in out
    assert "GET /api/health/db answered 503 Service Unavailable, expected 200" in out
    assert re.search(r"Readiness \d+% \(checklist, no release\): \d+ blocking item", out)
    assert "[1/" in done.stderr  # progress, one line per result when not in a terminal


@CHECKLIST_ONLY
def test_one_section_as_json(broken_target: ThreadedTarget, tmp_path: Path) -> None:
    done = readiness(shipped(broken_target, tmp_path), "--section", "testing", "--json")
    assert done.returncode == 1, done.stderr
    report = as_json(done)
    assert {i["section"] for i in report["items"]} == {"testing"}
    failing = {i["id"]: i["reason"] for i in report["items"] if i["status"] == "fail"}
    assert set(failing) == {"unit_ci_passing", "integration_ci_passing", "e2e_ci_passing"}
    assert "failure" in failing["unit_ci_passing"]


@CHECKLIST_ONLY
def test_one_section_gives_the_sections_own_readiness(
    broken_target: ThreadedTarget, tmp_path: Path
) -> None:
    env = shipped(broken_target, tmp_path)
    report = as_json(readiness(env, "--section", "security", "--json"))
    weights = {i.id: i.weight for i in APP.items}
    passing = [i["id"] for i in report["items"] if i["status"] == "pass"]
    section = sum(weights[i["id"]] for i in report["items"])
    expected = sum(weights[i] for i in passing) * 100 // section
    whole = sum(weights[i] for i in passing) * 100 // sum(weights.values())
    assert report["readiness"] == expected and 0 < whole < expected < 100
    done = readiness(env, "--section", "security")
    assert (
        f"Readiness {expected}% of section security ({len(passing)}/{len(report['items'])} "
        "items pass; checklist, no release): "
    ) in done.stdout, done.stdout[-2000:]


@CHECKLIST_ONLY  # and a missing SQLite file
def test_bad_usage_and_bad_config_exit_2(target: ThreadedTarget, tmp_path: Path) -> None:
    env = shipped(target, tmp_path)
    done = readiness(env, "--section", "nope")
    assert done.returncode == 2 and "--section: no section 'nope'" in done.stderr
    done = readiness(env, "NO SUCH RELEASE")
    assert done.returncode == 2 and "no database at" in done.stderr  # and none is made
    subprocess.run(
        [sys.executable, "-m", "bot", "db", "upgrade"],
        env={**os.environ, **env},
        cwd=ROOT,
        check=True,
        capture_output=True,
        timeout=60,
    )
    done = readiness(env, "NO SUCH RELEASE")
    assert done.returncode == 2 and "There is no release named" in done.stderr
    broken = tmp_path / "app.yaml"
    broken.write_text(
        (ROOT / "app.yaml").read_text().replace("min_percent: 70", "min_percent: 170", 1)
    )
    done = readiness({**env, "READINESS_CONFIG": str(broken)})
    assert done.returncode == 2
    assert re.search(r"app\.yaml: sections\.\d+\.items\.\d+\.check\.min_percent: ", done.stderr)
    assert "Traceback" not in done.stderr


def test_a_release_run_is_recorded_and_matches_the_card(slack: Slack, bot: Bot, name: str) -> None:
    slack.command("UREL", f"new {name}")
    slack.checks_done(name)
    done = readiness(bot.env, *name.split(), "--json")
    assert done.returncode == 1, done.stderr  # manual items are not ticked yet
    report = as_json(done)
    assert report["release"] == name and report["readiness"] > 0
    slack.wait_card(name, f"Readiness {report['readiness']}%")
    triggers = bot.sql(
        "SELECT trigger, done, total FROM check_runs JOIN releases ON releases.id = "
        "release_id WHERE releases.name = :name ORDER BY check_runs.id",
        name=name,
    )
    assert triggers[-1][0] == "cli" and triggers[-1][1] == triggers[-1][2]
