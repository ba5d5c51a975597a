"""The gate as the deploy platforms ask it, against the real bot: `?status=always` (200 and
the same body, approved or not; an unknown form is a 400), the Argo CD PreSync hook's
command exactly as deploy/argocd/readiness-presync.yaml runs it, and the Argo Rollouts /
Kargo AnalysisTemplate's request with its jsonPath and successCondition evaluated on what
the bot answers."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import pytest
import yaml

from bot.fake_slack import FakeSlackThread
from tests.databases import Databases
from tests.scenario.conftest import Slack, approve_all_but_final
from tests.scenario.harness import ROOT, Bot, ThreadedTarget

pytestmark = pytest.mark.once(
    reason="the platforms' requests to the gate over HTTP; test_api runs the gate on both"
)

TOKEN = "s3cret-api-token"
PRESYNC = ROOT / "deploy" / "argocd" / "readiness-presync.yaml"
ANALYSIS = ROOT / "deploy" / "argo-rollouts" / "analysis-template.yaml"


@pytest.fixture(scope="module")
def bot(
    fake: FakeSlackThread,
    target: ThreadedTarget,
    module_databases: Databases,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Bot]:
    tmp = tmp_path_factory.mktemp("platforms")
    running = Bot(fake, target, tmp, module_databases.url(tmp), READINESS_API_TOKEN=TOKEN).start()
    yield running
    running.stop()


def gate(name: str) -> str:
    return f"/api/releases/{quote(name, safe='')}/gate"


def open_release(slack: Slack, name: str) -> None:
    assert f"Opened *{name}*" in slack.command("UREL", f"new {name} ref=abc123")
    slack.checks_done(name)
    slack.wait_card(name, "Readiness")


def approve(slack: Slack, name: str) -> None:
    approve_all_but_final(slack, name)
    assert slack.sign("UCTO", name, "cto").status_code == 200
    slack.wait_card(name, "Approved for production deployment")


def test_status_always_answers_200_with_the_same_body(
    bot: Bot, api: httpx.Client, slack: Slack, name: str
) -> None:
    open_release(slack, name)
    plain, always = api.get(gate(name)), api.get(gate(name), params={"status": "always"})
    assert (plain.status_code, always.status_code) == (409, 200)
    assert always.json() == plain.json() and always.json()["approved"] is False
    assert always.json()["reasons"]

    approve(slack, name)
    plain, always = api.get(gate(name)), api.get(gate(name), params={"status": "always"})
    assert (plain.status_code, always.status_code) == (200, 200)
    assert always.json() == plain.json() and always.json()["approved"] is True

    for query in ("status=sometimes", "status=", "status=always&status=409"):
        refused = api.get(f"{gate(name)}?{query}")
        assert refused.status_code == 400, (query, refused.text)
        assert "the gate knows status=always" in refused.json()["error"], refused.text
    assert "unknown status 'sometimes'" in api.get(f"{gate(name)}?status=sometimes").text
    # What is not an answer about the release stays an error.
    assert api.get(gate("NO SUCH 9.9.9"), params={"status": "always"}).status_code == 404
    unauthorized = httpx.get(bot.url + gate(name), params={"status": "always"})
    assert unauthorized.status_code == 401


def presync_container() -> dict[str, Any]:
    job = yaml.safe_load(PRESYNC.read_text())
    (container,) = job["spec"]["template"]["spec"]["containers"]
    return dict(container)


def kubernetes_argv(container: dict[str, Any], env: dict[str, str]) -> list[str]:
    """The container's command with `$(VAR)` replaced as the kubelet does."""
    return [
        re.sub(r"\$\(([A-Za-z_][A-Za-z0-9_]*)\)", lambda m: env.get(m[1], m[0]), arg)
        for arg in container["command"]
    ]


def test_the_argocd_hook_fails_until_approved_then_passes(
    bot: Bot, slack: Slack, name: str
) -> None:
    container = presync_container()
    env = {e["name"]: e["value"] for e in container["env"] if "value" in e}
    env.update(RELEASE=name, READINESS_URL=bot.url)  # this test's bot, not the cluster's
    (secret,) = [e for e in container["env"] if "valueFrom" in e]
    env[secret["name"]] = TOKEN  # what the Secret holds
    argv = kubernetes_argv(container, env)
    base = {k: v for k, v in os.environ.items() if not k.startswith("READINESS_")}
    base.pop("PORT", None)
    path = f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"

    def run(args: list[str]) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            args, env={**base, **env, "PATH": path}, capture_output=True, text=True, timeout=60
        )

    open_release(slack, name)
    # Unapproved, the hook's pod fails: the same command with a timeout of seconds.
    at = argv.index("--timeout") + 1
    shortened = [*argv[:at], "2s", *argv[at + 1 :]]
    failed = run(shortened)
    assert failed.returncode == 1, failed.stdout + failed.stderr
    assert f"{name} is not approved for production deployment after waiting 2s" in failed.stdout

    approve(slack, name)
    passed = run(argv)
    assert passed.returncode == 0, passed.stdout + passed.stderr
    assert f"{name} is approved for production deployment" in passed.stdout


def json_path(body: Any, expression: str) -> Any:
    """Argo Rollouts' jsonPath for the one form the template uses: `{$.field.field}`."""
    match = re.fullmatch(r"\{\$((?:\.[A-Za-z_][A-Za-z0-9_-]*)+)\}", expression)
    assert match, f"jsonPath {expression!r} is not of the form {{$.field}}"
    for key in match[1].lstrip(".").split("."):
        body = body[key]
    return body


def success(condition: str, result: Any) -> bool:
    """successCondition for the one form the template uses: `result == true|false`."""
    match = re.fullmatch(r"result == (true|false)", condition.strip())
    assert match, f"successCondition {condition!r} is not `result == true|false`"
    return result is (match[1] == "true")


def test_the_analysis_template_measures_not_yet_then_success(
    bot: Bot, slack: Slack, name: str
) -> None:
    template = yaml.safe_load(ANALYSIS.read_text())
    (metric,) = template["spec"]["metrics"]
    web = metric["provider"]["web"]
    args = {a["name"]: a.get("value") for a in template["spec"]["args"]}
    # As the Rollout or the Stage gives them, and the Secret holds the token.
    args.update({"release": quote(name, safe=""), "readiness-url": bot.url, "api-token": TOKEN})

    def render(text: str) -> str:
        return re.sub(r"\{\{\s*args\.([\w-]+)\s*\}\}", lambda m: str(args[m[1]]), text)

    def measure() -> tuple[int, bool]:
        answer = httpx.get(
            render(web["url"]),
            headers={h["key"]: render(h["value"]) for h in web["headers"]},
            timeout=web["timeoutSeconds"],
        )
        if not 200 <= answer.status_code < 300:
            return answer.status_code, False  # the web provider: an error, not a measurement
        return answer.status_code, success(
            metric["successCondition"], json_path(answer.json(), web["jsonPath"])
        )

    open_release(slack, name)
    assert measure() == (200, False)  # a measurement: not approved yet
    without = httpx.get(
        render(web["url"]).split("?")[0], headers={"Authorization": f"Bearer {TOKEN}"}
    )
    assert without.status_code == 409  # why the template asks ?status=always
    approve(slack, name)
    assert measure() == (200, True)
    args["api-token"] = "wrong"
    assert measure() == (401, False)  # a wrong token stays an error
