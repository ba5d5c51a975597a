"""deploy/: the alert rules pass promtool, every metric they and the dashboard name is one
the bot exports, and the Compose and Kubernetes files are what they say."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from bot.runtime.metrics import Metrics

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
RULES = DEPLOY / "prometheus" / "readiness-rules.yml"
DASHBOARD = DEPLOY / "grafana" / "readiness-dashboard.json"


def exported() -> set[str]:
    names = set()
    for family in Metrics().registry.collect():
        names.add(family.name)
        names.update(sample.name for sample in family.samples)
    kinds = {"_bucket", "_count", "_sum", "_total", "_created"}
    return names | {f"{name}{kind}" for name in names for kind in kinds}


def metric_names(expr: str) -> set[str]:
    return set(re.findall(r"\b(readiness_[a-z_]+)", expr))


@pytest.mark.skipif(shutil.which("promtool") is None, reason="promtool (Debian prometheus) absent")
def test_alert_rules_pass_promtool() -> None:
    done = subprocess.run(
        ["promtool", "check", "rules", str(RULES)], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "SUCCESS: 5 rules found" in done.stdout


def test_rules_and_dashboard_use_only_exported_metrics() -> None:
    known = exported()
    rules = yaml.safe_load(RULES.read_text())["groups"][0]["rules"]
    dashboard = json.loads(DASHBOARD.read_text())
    exprs = [r["expr"] for r in rules] + [
        t["expr"] for panel in dashboard["panels"] for t in panel["targets"]
    ]
    used = set().union(*(metric_names(e) for e in exprs))
    assert used and used <= known, used - known
    assert {p["title"] for p in dashboard["panels"]} >= {"Ack latency p50 / p95 (s)"}


def test_compose_and_kubernetes_run_one_replica_on_a_volume_with_probes() -> None:
    compose = yaml.safe_load((DEPLOY / "docker-compose.yml").read_text())
    service = compose["services"]["readiness"]
    assert "readiness-data:/data" in service["volumes"]
    assert "/healthz" in " ".join(service["healthcheck"]["test"])
    docs = list(yaml.safe_load_all((DEPLOY / "kubernetes" / "readiness.yaml").read_text()))
    kinds = {d["kind"]: d for d in docs}
    assert set(kinds) == {"PersistentVolumeClaim", "Deployment", "Service"}
    spec = kinds["Deployment"]["spec"]
    assert spec["replicas"] == 1 and spec["strategy"]["type"] == "Recreate"
    container = spec["template"]["spec"]["containers"][0]
    assert container["readinessProbe"]["httpGet"]["path"] == "/healthz"
    assert container["livenessProbe"]["httpGet"]["path"] == "/healthz"
    assert {"secretRef": {"name": "readiness"}} in container["envFrom"]
    secret = yaml.safe_load((DEPLOY / "kubernetes" / "secret.example.yaml").read_text())
    assert set(secret["stringData"]) == {
        "SLACK_BOT_TOKEN",
        "SLACK_SIGNING_SECRET",
        "READINESS_API_TOKEN",
    }
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert "USER readiness" in dockerfile and "HEALTHCHECK" in dockerfile
    assert 'VOLUME ["/data"]' in dockerfile
