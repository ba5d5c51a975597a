"""The pipeline examples in docs/ci: valid YAML, gate before deploy before `deployed`, and
shell that parses (gitlab-ci-approval.yml's too; tests/scenario/test_gitlab_approval.py
runs it)."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

CI = Path(__file__).resolve().parents[2] / "docs" / "ci"


def load(name: str) -> dict[Any, Any]:
    data = yaml.safe_load((CI / name).read_text())
    assert isinstance(data, dict)
    return data


def github_steps() -> list[dict[str, Any]]:
    return list(load("github-actions.yml")["jobs"]["deploy"]["steps"])


def gitlab_script() -> list[str]:
    return list(load("gitlab-ci.yml")["deploy-production"]["script"])


def order(commands: list[str]) -> list[int]:
    def first(needle: str) -> int:
        return next(i for i, c in enumerate(commands) if needle in c)

    return [first("readiness gate"), first("deploy.sh"), first("/deployed")]


def test_github_actions_gates_then_deploys_then_says_so() -> None:
    workflow = load("github-actions.yml")
    assert workflow.get("on", workflow.get(True))  # PyYAML reads the bare key `on` as True
    assert workflow["env"]["READINESS_API_TOKEN"] == "${{ secrets.READINESS_API_TOKEN }}"
    runs = [str(step.get("run", "")) for step in github_steps()]
    gate = next(r for r in runs if "readiness gate" in r)
    assert 'readiness gate "$RELEASE" --wait --timeout 30m' in gate
    assert order(runs) == sorted(order(runs))
    assert "Authorization: Bearer $READINESS_API_TOKEN" in runs[order(runs)[2]]


def test_gitlab_ci_gates_then_deploys_then_says_so() -> None:
    script = gitlab_script()
    assert any('readiness gate "$RELEASE" --wait --timeout 30m' in line for line in script)
    assert order(script) == sorted(order(script))
    assert load("gitlab-ci.yml")["stages"] == ["test", "deploy"]


def shell_snippets() -> list[str]:
    github = [
        str(s["run"])
        for job in load("github-actions.yml")["jobs"].values()
        for s in job["steps"]
        if "run" in s
    ]
    gitlab = [
        line
        for name in ("gitlab-ci.yml", "gitlab-ci-approval.yml")
        for job in load(name).values()
        if isinstance(job, dict)
        for key in ("before_script", "script", "after_script")
        for line in job.get(key, [])
    ]
    return github + gitlab


@pytest.mark.parametrize("snippet", shell_snippets())
def test_the_shell_parses(snippet: str) -> None:
    checked = subprocess.run(["bash", "-n"], input=snippet, text=True, capture_output=True)
    assert checked.returncode == 0, checked.stderr
