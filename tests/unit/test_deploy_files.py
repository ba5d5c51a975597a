"""deploy/: the alert rules pass promtool, every metric they and the dashboard name is one
the bot exports, and the Compose and Kubernetes files (SQLite, and PostgreSQL with several
replicas behind a proxy) are what they say."""

from __future__ import annotations

import http.server
import json
import re
import shutil
import socket
import subprocess
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from sqlalchemy.engine import make_url

from bot.config import load_settings
from bot.runtime.metrics import Metrics

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
RULES = DEPLOY / "prometheus" / "readiness-rules.yml"
DASHBOARD = DEPLOY / "grafana" / "readiness-dashboard.json"
POSTGRESQL = DEPLOY / "kubernetes" / "postgresql"
HAPROXY = DEPLOY / "haproxy" / "haproxy.cfg"
PG_URL = "postgresql+asyncpg://readiness:readiness@postgres:5432/readiness"
# What the proxy in front of the replicas passes on; anything else it answers 404 itself.
BOT_PATHS = ["/slack/events", "/api/releases/LUMINES%201.0.0/gate", "/healthz", "/metrics"]


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
    assert "profiles" not in service  # the default: `docker compose up` starts it alone
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


def kube(path: Path) -> dict[str, dict[str, Any]]:
    return {d["kind"]: d for d in yaml.safe_load_all(path.read_text())}


def selects(selector: dict[str, Any], labels: dict[str, str]) -> bool:
    wanted = selector.get("matchLabels", selector)
    return all(labels.get(k) == v for k, v in wanted.items())


def test_postgresql_variant_runs_three_replicas_rolling_behind_a_budget() -> None:
    kinds = kube(POSTGRESQL / "readiness.yaml")
    assert set(kinds) == {"Deployment", "Service", "PodDisruptionBudget"}
    deployment = kinds["Deployment"]["spec"]
    assert deployment["replicas"] == 3
    assert deployment["strategy"] == {
        "type": "RollingUpdate",
        "rollingUpdate": {"maxUnavailable": 0, "maxSurge": 1},
    }
    pod = deployment["template"]
    labels = pod["metadata"]["labels"]
    assert selects(deployment["selector"], labels)
    assert selects(kinds["Service"]["spec"]["selector"], labels)
    budget = kinds["PodDisruptionBudget"]["spec"]
    assert budget["minAvailable"] == 2 and selects(budget["selector"], labels)
    assert budget["minAvailable"] < deployment["replicas"]  # a drain can make progress

    (container,) = pod["spec"]["containers"]
    ports = {p["name"]: p["containerPort"] for p in container["ports"]}
    assert ports == {"http": 3000}
    for probe in ("readinessProbe", "livenessProbe", "startupProbe"):
        get = container[probe]["httpGet"]
        assert get["path"] == "/healthz" and ports[get["port"]] == 3000, probe
    liveness = container["livenessProbe"]
    assert liveness["periodSeconds"] * liveness["failureThreshold"] >= 60  # not on a blip

    env = {e["name"]: e for e in container["env"]}
    assert env["DATABASE_URL"]["valueFrom"]["secretKeyRef"] == {
        "name": "readiness",
        "key": "DATABASE_URL",
    }  # required: no silent fall-back to the image's SQLite default
    assert {"secretRef": {"name": "readiness"}} in container["envFrom"]
    # READINESS_CONFIG is the directory the products ConfigMap is mounted as.
    mounts = {m["mountPath"]: m["name"] for m in container["volumeMounts"]}
    volumes = {v["name"]: v for v in pod["spec"]["volumes"]}
    config = env["READINESS_CONFIG"]["value"]
    assert volumes[mounts[config]]["configMap"] == {"name": "readiness-products"}

    assert pod["spec"]["securityContext"]["runAsNonRoot"] is True
    assert container["securityContext"]["readOnlyRootFilesystem"] is True
    assert container["securityContext"]["allowPrivilegeEscalation"] is False
    assert volumes[mounts["/tmp"]]["emptyDir"] is not None
    assert container["resources"]["requests"] and container["resources"]["limits"]["memory"]
    sqlite = kube(DEPLOY / "kubernetes" / "readiness.yaml")["Deployment"]["spec"]["template"]
    assert sqlite["metadata"]["labels"] == labels  # the same names: one replaces the other
    assert container["resources"] == sqlite["spec"]["containers"][0]["resources"]


def test_postgresql_schema_is_migrated_once_by_a_job_not_by_every_pod() -> None:
    job = kube(POSTGRESQL / "db-upgrade-job.yaml")["Job"]
    spec = job["spec"]
    assert spec["parallelism"] == 1 and spec["completions"] == 1
    assert spec["podReplacementPolicy"] == "Failed"  # a retry never overlaps its predecessor
    pod = spec["template"]
    (container,) = pod["spec"]["containers"]
    assert container["command"] == ["readiness", "db", "upgrade"]
    assert pod["spec"]["restartPolicy"] == "Never"
    env = {e["name"]: e for e in container["env"]}
    assert env["DATABASE_URL"]["valueFrom"]["secretKeyRef"]["name"] == "readiness"
    assert container["securityContext"]["readOnlyRootFilesystem"] is True
    kinds = kube(POSTGRESQL / "readiness.yaml")
    deployment = kinds["Deployment"]["spec"]["template"]["spec"]
    assert container["image"] == deployment["containers"][0]["image"]
    assert "initContainers" not in deployment
    # The Job's pod is no replica: neither the Service nor the budget counts it.
    labels = pod["metadata"]["labels"]
    assert not selects(kinds["Service"]["spec"]["selector"], labels)
    assert not selects(kinds["PodDisruptionBudget"]["spec"]["selector"], labels)
    assert "Alembic takes no lock" in (POSTGRESQL / "db-upgrade-job.yaml").read_text()


def test_postgresql_secret_example_names_an_asyncpg_url() -> None:
    secret = yaml.safe_load((POSTGRESQL / "secret.example.yaml").read_text())
    assert secret["metadata"]["name"] == "readiness"
    data = secret["stringData"]
    assert set(data) == {
        "DATABASE_URL",
        "SLACK_BOT_TOKEN",
        "SLACK_SIGNING_SECRET",
        "READINESS_API_TOKEN",
    }
    url = make_url(data["DATABASE_URL"])
    assert url.drivername == "postgresql+asyncpg" and url.port == 5432
    assert url.username and url.password and url.host and url.database


def test_products_configmap_loads_as_a_directory_mounted_the_way_kubelet_does(
    tmp_path: Path,
) -> None:
    # kubelet's layout: the files in a timestamped directory, `..data` pointing at it, and
    # each key a symlink through `..data`.
    config = kube(POSTGRESQL / "products.example.yaml")["ConfigMap"]
    assert config["metadata"]["name"] == "readiness-products"
    stamped = tmp_path / "..2026_01_01_00_00_00.000000001"
    stamped.mkdir()
    (tmp_path / "..data").symlink_to(stamped.name)
    for key, text in config["data"].items():
        (stamped / key).write_text(text)
        (tmp_path / key).symlink_to(Path("..data") / key)
    settings = load_settings(tmp_path, env={})
    assert list(settings.catalog.products) == ["example"]
    assert settings.catalog.directory


def test_kubernetes_manifests_match_the_api_schema() -> None:
    validate = pytest.importorskip("kubernetes_validate", reason="kubernetes-validate absent")
    for path in [DEPLOY / "kubernetes" / "readiness.yaml", *sorted(POSTGRESQL.glob("*.yaml"))]:
        for doc in yaml.safe_load_all(path.read_text()):
            validate.validate(doc, "1.30.0", strict=True)


def test_compose_postgres_profile_runs_two_replicas_behind_a_proxy() -> None:
    compose = yaml.safe_load((DEPLOY / "docker-compose.yml").read_text())
    services = compose["services"]
    profiled = {name for name, s in services.items() if "postgres" in s.get("profiles", [])}
    assert profiled == {"postgres", "readiness-db-upgrade", "readiness-a", "readiness-b", "proxy"}
    assert set(services) - profiled == {"readiness"}

    database = services["postgres"]
    assert database["image"] == "postgres:16"
    assert "pg_isready" in " ".join(database["healthcheck"]["test"])
    env = database["environment"]
    assert (env["POSTGRES_USER"], env["POSTGRES_PASSWORD"], env["POSTGRES_DB"]) == (
        "readiness",
        "readiness",
        "readiness",
    )
    assert make_url(PG_URL).host == "postgres"

    upgrade = services["readiness-db-upgrade"]
    assert upgrade["command"] == ["readiness", "db", "upgrade"]
    assert upgrade["restart"] == "no"
    assert upgrade["depends_on"] == {"postgres": {"condition": "service_healthy"}}
    for name in ("readiness-db-upgrade", "readiness-a", "readiness-b"):
        assert services[name]["environment"]["DATABASE_URL"] == PG_URL, name
    for name in ("readiness-a", "readiness-b"):
        bot = services[name]
        assert bot["image"] == services["readiness"]["image"]
        assert "ports" not in bot  # reached through the proxy only
        assert "/healthz" in " ".join(bot["healthcheck"]["test"])
        assert bot["depends_on"] == {
            "postgres": {"condition": "service_healthy"},
            "readiness-db-upgrade": {"condition": "service_completed_successfully"},
        }
    proxy = services["proxy"]
    assert proxy["image"].startswith("haproxy:")
    assert set(proxy["depends_on"]) == {"readiness-a", "readiness-b"}
    (mount,) = proxy["volumes"]
    source = mount.split(":")[0]
    assert (DEPLOY / source).resolve() == HAPROXY
    assert set(compose["volumes"]) == {"readiness-data", "postgres-data"}
    servers = re.findall(r"^\s*server\s+\S+\s+(\S+)", HAPROXY.read_text(), re.MULTILINE)
    assert servers == ["readiness-a:3000", "readiness-b:3000"]


@pytest.mark.skipif(shutil.which("docker") is None, reason="docker absent")
def test_compose_file_passes_docker_compose_config(tmp_path: Path) -> None:
    if subprocess.run(["docker", "compose", "version"], capture_output=True).returncode:
        pytest.skip("docker compose (the plugin) absent")
    deploy = tmp_path / "deploy"
    shutil.copytree(DEPLOY, deploy)
    (deploy / ".env").write_text("")  # env_file: .env is the operator's own
    for profile in ([], ["--profile", "postgres"]):
        done = subprocess.run(
            ["docker", "compose", "-f", str(deploy / "docker-compose.yml"), *profile, "config"],
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert done.returncode == 0, done.stderr


@pytest.mark.skipif(shutil.which("haproxy") is None, reason="haproxy (Debian haproxy) absent")
def test_haproxy_config_passes_haproxy_check() -> None:
    done = subprocess.run(
        ["haproxy", "-c", "-f", str(HAPROXY)], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stdout + done.stderr


class Replica(http.server.ThreadingHTTPServer):
    """A stand-in bot: /healthz 200 (or 503 without its database), anything else echoed."""

    daemon_threads = True

    def __init__(self, name: str) -> None:
        self.name, self.healthy = name, True
        self.seen: list[str] = []
        super().__init__(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.serve_forever, daemon=True)
        self.thread.start()

    @property
    def port(self) -> int:
        return int(self.server_address[1])

    def stop(self) -> None:
        if self.thread.is_alive():
            self.shutdown()
            self.server_close()
            self.thread.join(5)


class Handler(http.server.BaseHTTPRequestHandler):
    server: Replica

    def log_message(self, *_: object) -> None:
        pass

    def answer(self) -> None:
        if self.path == "/healthz":
            status = 200 if self.server.healthy else 503
            self.send_response(status)
            self.end_headers()
            return
        self.server.seen.append(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length).decode()
        reply = json.dumps(
            {
                "replica": self.server.name,
                "path": self.path,
                "body": body,
                "signature": self.headers.get("X-Slack-Signature"),
            }
        ).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(reply)))
        self.end_headers()
        self.wfile.write(reply)

    do_GET = do_POST = answer


def listening(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
    except OSError:
        return False
    return True


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


# Straight to the local proxy, whatever http_proxy says.
DIRECT = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def ask(url: str, body: bytes | None = None) -> tuple[int, dict[str, Any]]:
    headers = {"X-Slack-Signature": "v0=abc"} if body is not None else {}
    request = urllib.request.Request(url, data=body, headers=headers)
    try:
        with DIRECT.open(request, timeout=5) as answer:
            text = answer.read()
            return answer.status, json.loads(text) if text else {}
    except urllib.error.HTTPError as exc:
        exc.close()
        return exc.code, {}


@pytest.fixture
def proxied(tmp_path: Path) -> Iterator[tuple[str, Replica, Replica]]:
    """deploy/haproxy/haproxy.cfg as shipped, but on local ports and checking every 100 ms."""
    a, b = Replica("readiness-a"), Replica("readiness-b")
    port = free_port()
    text = HAPROXY.read_text()
    for old, new in [
        ("bind :3000", f"bind 127.0.0.1:{port}"),
        ("readiness-a:3000", f"127.0.0.1:{a.port}"),
        ("readiness-b:3000", f"127.0.0.1:{b.port}"),
        ("check inter 5s", "check inter 100ms"),
        ("log stdout format raw local0 info", ""),
    ]:
        assert old in text, old
        text = text.replace(old, new)
    config = tmp_path / "haproxy.cfg"
    config.write_text(text)
    proxy = subprocess.Popen(
        ["haproxy", "-db", "-f", str(config)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 10
        while not listening(port) or ask(f"{url}/healthz")[0] != 200:  # up, replicas checked
            assert proxy.poll() is None and time.monotonic() < deadline, "haproxy did not start"
            time.sleep(0.05)
        time.sleep(0.3)
        yield url, a, b
    finally:
        proxy.terminate()
        proxy.wait(10)
        a.stop()
        b.stop()


def until(condition: Any, seconds: float = 5) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "not within the time"
        time.sleep(0.05)


@pytest.mark.skipif(shutil.which("haproxy") is None, reason="haproxy (Debian haproxy) absent")
def test_haproxy_balances_the_bot_and_leaves_out_a_replica_that_fails(
    proxied: tuple[str, Replica, Replica],
) -> None:
    url, a, b = proxied
    # Every path of the bot reaches a replica, round robin over both.
    answered = set()
    for path in BOT_PATHS * 2:
        status, reply = ask(url + path)
        assert status == 200, path
        if path != "/healthz":
            assert reply["path"] == path
            answered.add(reply["replica"])
    assert answered == {"readiness-a", "readiness-b"}
    # A signed Slack request arrives byte for byte, headers included.
    body = b"token=x&command=%2Freadiness&text=status+LUMINES+1.0.0"
    status, reply = ask(url + "/slack/events", body)
    assert status == 200 and reply["body"] == body.decode() and reply["signature"] == "v0=abc"
    # Anything else stops at the proxy.
    seen = len(a.seen) + len(b.seen)
    assert ask(url + "/admin")[0] == 404
    assert ask(url + "/slack/eventsX")[0] == 404
    assert len(a.seen) + len(b.seen) == seen

    # A replica whose /healthz answers 503 (no database) leaves the rotation...
    a.healthy = False
    until(lambda: all(ask(url + "/metrics")[1]["replica"] == "readiness-b" for _ in range(4)))
    # ...and comes back when it answers 200 again.
    a.healthy = True
    both = {"readiness-a", "readiness-b"}
    until(lambda: {ask(url + "/metrics")[1]["replica"] for _ in range(4)} == both)
    # A replica that is gone (killed, or restarting in a rollout): its connection is refused
    # and the request goes to the other one, before any health check has noticed.
    b.stop()
    for _ in range(6):
        status, reply = ask(url + "/slack/events", body)
        assert status == 200 and reply["replica"] == "readiness-a"
    # Both gone: the proxy says so itself.
    a.healthy = False
    until(lambda: ask(url + "/healthz")[0] == 503)
