"""docs/ci/gitlab-ci-approval.yml, run: its readiness-approval job (the script exactly as
the file has it) against the real bot and a local fake of GitLab's API holding
deploy-production for approval. Signed in Slack, GitLab records one approval by the bot
user, for this pipeline's deployment, and the held job is started; unapproved in time, a
rejection; refused by GitLab or unable to ask the gate, no decision at all. Then
deploy-production's own script asks the gate and tells Readiness it is deployed."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from bot.fake_slack import FakeSlackThread
from tests.databases import Databases
from tests.scenario.conftest import Slack, approve_all_but_final
from tests.scenario.fake_gitlab import FakeGitLab
from tests.scenario.harness import ROOT, Bot, ThreadedTarget

pytestmark = pytest.mark.once(
    reason="GitLab's job and the gate over HTTP; test_api runs the gate on both"
)

TOKEN = "s3cret-api-token"
APPROVER = "glpat-readiness-bot"  # the bot user's token GitLab knows
PIPELINE, DEPLOYMENT, JOB = 77, 501, 9001
PIPELINE_FILE = yaml.safe_load((ROOT / "docs" / "ci" / "gitlab-ci-approval.yml").read_text())


@pytest.fixture(scope="module")
def bot(
    fake: FakeSlackThread,
    target: ThreadedTarget,
    module_databases: Databases,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Bot]:
    tmp = tmp_path_factory.mktemp("gitlab")
    running = Bot(fake, target, tmp, module_databases.url(tmp), READINESS_API_TOKEN=TOKEN).start()
    yield running
    running.stop()


@pytest.fixture
def gitlab() -> Iterator[FakeGitLab]:
    with FakeGitLab(tokens={APPROVER: "readiness-bot", "glpat-alice": "alice"}) as served:
        served.hold(DEPLOYMENT, JOB, "deploy-production", PIPELINE, "production", user="alice")
        # The same job of an older pipeline, also held: it must be left alone.
        served.hold(
            DEPLOYMENT - 1, JOB - 1, "deploy-production", PIPELINE - 1, "production", "alice"
        )
        yield served


def job_script(job: str, skip: tuple[str, ...] = ()) -> str:
    """JOB's before_script and script as GitLab joins them, without the lines that SKIP
    names (installing readiness: the test's environment has it; the placeholders)."""
    spec = PIPELINE_FILE[job]
    base = PIPELINE_FILE[spec["extends"]] if "extends" in spec else {}
    lines = [*spec.get("before_script", base.get("before_script", [])), *spec["script"]]
    return "\n".join(line for line in lines if not any(s in line for s in skip))


def job_env(bot: Bot, gitlab: FakeGitLab, job: str, name: str, **extra: str) -> dict[str, str]:
    """The job's environment: the file's variables, GitLab's predefined ones, the CI/CD
    variables the file asks for, and the test's `readiness` first on PATH."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("READINESS_", "GITLAB_"))}
    env.pop("PORT", None)
    return {
        **env,
        **PIPELINE_FILE["variables"],
        **PIPELINE_FILE[job].get("variables", {}),
        "RELEASE": name,
        "CI_API_V4_URL": gitlab.api_url,
        "CI_PROJECT_ID": str(gitlab.project),
        "CI_PIPELINE_ID": str(PIPELINE),
        "CI_JOB_ID": str(JOB),
        "READINESS_URL": bot.url,
        "READINESS_API_TOKEN": TOKEN,
        "GITLAB_APPROVER_TOKEN": APPROVER,
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
        **extra,
    }


def approval_job(env: dict[str, str]) -> subprocess.Popen[str]:
    return subprocess.Popen(
        ["bash", "-eo", "pipefail", "-c", job_script("readiness-approval", skip=("pip install",))],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def finish(job: subprocess.Popen[str]) -> tuple[int, str]:
    try:
        out, _ = job.communicate(timeout=60)
    finally:
        if job.poll() is None:
            job.kill()
    return job.returncode, out


def open_release(slack: Slack, name: str) -> None:
    assert f"Opened *{name}*" in slack.command("UREL", f"new {name} ref=abc123")
    slack.checks_done(name)
    slack.wait_card(name, "Readiness")


def decisions(gitlab: FakeGitLab) -> list[tuple[str, dict[str, Any]]]:
    return [(c.path, c.form) for c in gitlab.posted("/approval")]


def test_signed_in_slack_gitlab_records_one_approval_and_the_job_starts(
    bot: Bot, slack: Slack, gitlab: FakeGitLab, name: str
) -> None:
    open_release(slack, name)
    approve_all_but_final(slack, name)
    job = approval_job(job_env(bot, gitlab, "readiness-approval", name, GITLAB_APPROVE_AS="ops"))
    assert job.stdout is not None
    said = [job.stdout.readline(), job.stdout.readline()]  # found the deployment; waiting
    assert f"deploy-production's deployment {DEPLOYMENT} waits for approval" in said[0], said
    assert "not approved yet" in said[1], said
    assert not decisions(gitlab)  # nothing is decided while the sign-off is incomplete

    assert slack.sign("UCTO", name, "cto").status_code == 200
    code, out = finish(job)
    assert code == 0, "".join(said) + out
    assert (
        f"approved deployment {DEPLOYMENT}" in out
        and f"started deploy-production (job {JOB})" in out
    )

    project = f"/api/v4/projects/{gitlab.project}"
    assert decisions(gitlab) == [
        (
            f"{project}/deployments/{DEPLOYMENT}/approval",
            {
                "status": "approved",
                "comment": f"Readiness: {name} approved",
                "represented_as": "ops",
            },
        )
    ]
    assert [c.path for c in gitlab.posted("/play")] == [f"{project}/jobs/{JOB}/play"]
    assert {c.token for c in gitlab.calls} == {APPROVER}
    listed = next(c for c in gitlab.calls if c.path.endswith("/deployments"))
    assert listed.query["environment"] == "production" and listed.query["status"] == "blocked"
    assert gitlab.deployments[DEPLOYMENT]["approvals"][0]["user"] == {"username": "readiness-bot"}
    assert gitlab.deployments[DEPLOYMENT - 1]["status"] == "blocked"  # the other pipeline's
    assert gitlab.jobs[JOB]["status"] == "pending"

    deploy = subprocess.run(
        [
            "bash",
            "-eo",
            "pipefail",
            "-c",
            job_script("deploy-production", ("pip install", "deploy.sh")),
        ],
        env=job_env(bot, gitlab, "deploy-production", name),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert deploy.returncode == 0, deploy.stdout + deploy.stderr
    assert f"{name} is approved for production deployment" in deploy.stdout
    slack.wait_thread(name, f"marked deployed via the API (by gitlab-ci job {JOB})")


def test_not_approved_in_time_the_deployment_is_rejected(
    bot: Bot, slack: Slack, gitlab: FakeGitLab, name: str
) -> None:
    open_release(slack, name)
    env = job_env(bot, gitlab, "readiness-approval", name, GATE_TIMEOUT="1s")
    code, out = finish(approval_job(env))
    assert code == 1, out
    assert f"{name} is not approved for production deployment after waiting 1s" in out
    ((path, form),) = decisions(gitlab)
    assert path.endswith(f"/deployments/{DEPLOYMENT}/approval")
    assert form == {"status": "rejected", "comment": f"Readiness: {name} not approved in time"}
    assert gitlab.jobs[JOB]["status"] == "failed" and not gitlab.posted("/play")


def test_refused_by_gitlab_or_the_gate_nothing_is_decided(
    bot: Bot, slack: Slack, gitlab: FakeGitLab, name: str
) -> None:
    open_release(slack, name)
    approve_all_but_final(slack, name)
    assert slack.sign("UCTO", name, "cto").status_code == 200
    cases = [
        ({"GITLAB_APPROVER_TOKEN": "glpat-wrong"}, "HTTP 401", 1),
        ({"GITLAB_APPROVER_TOKEN": ""}, "set GITLAB_APPROVER_TOKEN", 1),
        ({"READINESS_API_TOKEN": "wrong"}, "refused the API token (401)", 2),
        ({"GITLAB_APPROVER_TOKEN": "glpat-alice"}, "You cannot approve your own deployment", 1),
    ]
    for extra, said, exit_code in cases:
        code, out = finish(approval_job(job_env(bot, gitlab, "readiness-approval", name, **extra)))
        assert code == exit_code and said in out, (extra, code, out)
    assert gitlab.deployments[DEPLOYMENT]["approvals"] == [] and not gitlab.posted("/play")
    assert gitlab.deployments[DEPLOYMENT]["status"] == "blocked"
