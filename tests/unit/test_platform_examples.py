"""The deploy-platform examples are what they say, without a cluster: the Argo CD PreSync
Job validates against Kubernetes' schema and runs a real `readiness gate --wait` with the
variables the command reads; the Argo Rollouts AnalysisTemplate has the fields its CRD
requires and asks the gate in the form that answers 200; the GitLab approval pipeline puts
the approval job beside the job GitLab holds."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from bot.cli.gate import gate
from bot.config import load_environment

ROOT = Path(__file__).resolve().parents[2]
PRESYNC = ROOT / "deploy" / "argocd" / "readiness-presync.yaml"
ANALYSIS = ROOT / "deploy" / "argo-rollouts" / "analysis-template.yaml"
GITLAB = ROOT / "docs" / "ci" / "gitlab-ci-approval.yml"
# gitops-engine's hook delete policies (Argo CD's resource hooks documentation).
DELETE_POLICIES = {"HookSucceeded", "HookFailed", "BeforeHookCreation"}


def load(path: Path) -> dict[str, Any]:
    (doc,) = list(yaml.safe_load_all(path.read_text()))
    assert isinstance(doc, dict)
    return doc


def test_the_presync_job_matches_the_kubernetes_schema() -> None:
    validate = pytest.importorskip("kubernetes_validate", reason="kubernetes-validate absent")
    validate.validate(load(PRESYNC), "1.30.0", strict=True)


def test_the_presync_job_is_a_hook_that_fails_the_sync_when_not_approved() -> None:
    job = load(PRESYNC)
    annotations = job["metadata"]["annotations"]
    assert annotations["argocd.argoproj.io/hook"] == "PreSync"
    policies = set(annotations["argocd.argoproj.io/hook-delete-policy"].split(","))
    assert policies <= DELETE_POLICIES and "BeforeHookCreation" in policies  # a fixed name
    assert "name" in job["metadata"]
    spec = job["spec"]
    assert spec["backoffLimit"] == 0  # a failed pod fails the Job, hence the sync
    pod = spec["template"]["spec"]
    assert pod["restartPolicy"] == "Never"
    (container,) = pod["containers"]
    bot = next(
        d
        for d in yaml.safe_load_all((ROOT / "deploy" / "kubernetes" / "readiness.yaml").read_text())
        if d["kind"] == "Deployment"
    )
    assert container["image"] == bot["spec"]["template"]["spec"]["containers"][0]["image"]

    command = container["command"]
    assert command[:2] == ["readiness", "gate"]
    context = gate.make_context("gate", list(command[2:]))  # click refuses what it lacks
    assert context.params["keep_asking"] is True
    assert context.params["release"] == ("$(RELEASE)",)
    assert spec["activeDeadlineSeconds"] > context.params["timeout"] == 1800

    env = {e["name"]: e for e in container["env"]}
    referenced = set(re.findall(r"\$\(([A-Za-z_][A-Za-z0-9_]*)\)", " ".join(command)))
    assert referenced <= set(env)  # the kubelet leaves an unknown $(VAR) as it is
    secret = env["READINESS_API_TOKEN"]["valueFrom"]["secretKeyRef"]
    assert secret == {"name": "readiness-gate", "key": "READINESS_API_TOKEN"}
    read = load_environment(
        {n: e.get("value", "from-the-secret") for n, e in env.items() if n != "RELEASE"}
    )
    assert read.readiness_url == env["READINESS_URL"]["value"]
    assert read.readiness_api_token == "from-the-secret"
    assert env["READINESS_URL"]["value"].startswith("http://readiness.")  # the bot's Service


def test_the_analysis_template_has_what_its_crd_requires() -> None:
    template = load(ANALYSIS)
    assert (template["apiVersion"], template["kind"]) == (
        "argoproj.io/v1alpha1",
        "AnalysisTemplate",
    )
    assert template["metadata"]["name"]
    spec = template["spec"]
    (metric,) = spec["metrics"]
    assert metric["name"] and set(metric["provider"]) == {"web"}
    web = metric["provider"]["web"]
    assert "/api/releases/{{ args.release }}/gate?status=always" in web["url"]
    assert web["jsonPath"] == "{$.approved}" and metric["successCondition"] == "result == true"
    assert isinstance(web["timeoutSeconds"], int)
    assert [h["key"] for h in web["headers"]] == ["Authorization"]
    assert web["headers"][0]["value"] == "Bearer {{ args.api-token }}"

    # Waiting, not failing: no failure ends it, the first success does (Rollouts >= 1.8;
    # one of the two limits must apply); count > 1 needs an interval.
    assert metric["failureLimit"] == -1 and metric["consecutiveSuccessLimit"] == 1
    assert metric["count"] > 1 and re.fullmatch(r"\d+[smh]", metric["interval"])
    assert metric["consecutiveErrorLimit"] >= 1

    args = {a["name"]: a for a in spec["args"]}
    used = set(re.findall(r"\{\{\s*args\.([\w-]+)\s*\}\}", yaml.safe_dump(metric)))
    assert used == set(args)
    assert args["api-token"]["valueFrom"]["secretKeyRef"] == {
        "name": "readiness-gate",
        "key": "READINESS_API_TOKEN",
    }
    assert "value" not in args["release"]  # the Rollout or the Kargo Stage names it


def test_the_gitlab_approval_job_runs_beside_the_job_gitlab_holds() -> None:
    pipeline = load(GITLAB)
    deploy, approval = pipeline["deploy-production"], pipeline["readiness-approval"]
    assert deploy["stage"] == approval["stage"] == "deploy"  # held while the other runs
    assert approval["variables"]["DEPLOY_JOB"] == "deploy-production"
    assert approval["variables"]["DEPLOY_ENVIRONMENT"] == deploy["environment"]
    script = "\n".join(approval["script"])
    assert '"readiness", "gate", os.environ["RELEASE"], "--wait"' in script
    for call in ("/deployments?", "/approval", "/play"):
        assert call in script
    assert '"PRIVATE-TOKEN": token' in script
    steps = deploy["script"]
    order = [
        next(i for i, s in enumerate(steps) if needle in s)
        for needle in ('readiness gate "$RELEASE"', "deploy.sh", "/deployed")
    ]
    assert order == sorted(order)
    program = script.split("<<'PY'\n", 1)[1].rsplit("\nPY", 1)[0]
    compile(program, "readiness-approval", "exec")
