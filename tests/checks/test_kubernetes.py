"""kubernetes: nodes and deployments from a local API-server stand-in, over HTTP and HTTPS."""

from __future__ import annotations

import ssl
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import trustme
from pydantic import ValidationError
from standins import REGISTRY, Kubernetes, run_one, serve

from checks import CheckContext, Status

TOKEN_ENV = "READINESS_TEST_KUBE_TOKEN"


@pytest.fixture
async def cluster(environ: dict[str, str]) -> AsyncIterator[tuple[Kubernetes, str]]:
    kube = Kubernetes(nodes={"node-a": True, "node-b": True, "node-c": True})
    kube.add_deployment("api", replicas=3, available=3)
    environ[TOKEN_ENV] = kube.token
    async with serve(kube.app()) as url:
        yield kube, url


def nodes(url: str, **more: object) -> dict[str, object]:
    return {"type": "kubernetes", "api_url": url, "kind": "nodes", "token_env": TOKEN_ENV, **more}


def deployment(url: str, name: str = "api", **more: object) -> dict[str, object]:
    return {
        "type": "kubernetes",
        "api_url": url,
        "kind": "deployment",
        "name": name,
        "token_env": TOKEN_ENV,
        **more,
    }


async def test_all_nodes_ready(cluster: tuple[Kubernetes, str], ctx: CheckContext) -> None:
    kube, url = cluster
    result = await run_one(ctx, **nodes(url))
    assert result.status is Status.PASS
    assert result.reason == "3/3 nodes Ready"
    (request,) = kube.requests
    assert request.path == "/api/v1/nodes"
    assert request.headers["Authorization"] == f"Bearer {kube.token}"


async def test_a_node_not_ready_fails(cluster: tuple[Kubernetes, str], ctx: CheckContext) -> None:
    kube, url = cluster
    kube.nodes["node-b"] = False
    result = await run_one(ctx, **nodes(url))
    assert result.status is Status.FAIL
    assert result.reason == "2/3 nodes Ready; not ready: node-b"
    assert result.values["not_ready"] == ["node-b"]


async def test_large_cluster_is_read_page_by_page(
    cluster: tuple[Kubernetes, str], ctx: CheckContext
) -> None:
    kube, url = cluster
    kube.nodes = {f"node-{i:03}": i % 50 != 7 for i in range(250)}
    result = await run_one(ctx, **nodes(url))
    assert result.status is Status.FAIL
    assert result.reason == (
        "245/250 nodes Ready; not ready: node-007, node-057, node-107, node-157, node-207"
    )
    assert [r.query.get("continue") for r in kube.requests] == [None, "100", "200"]


async def test_deployment_available_passes(
    cluster: tuple[Kubernetes, str], ctx: CheckContext
) -> None:
    kube, url = cluster
    result = await run_one(ctx, **deployment(url))
    assert result.status is Status.PASS
    assert result.reason == "api: 3/3 replicas available and updated"
    assert kube.requests[0].path == "/apis/apps/v1/namespaces/default/deployments/api"


async def test_deployment_rolling_out_fails(
    cluster: tuple[Kubernetes, str], ctx: CheckContext
) -> None:
    kube, url = cluster
    kube.add_deployment("api", replicas=3, available=1, namespace="shop")
    unavailable = await run_one(ctx, **deployment(url, namespace="shop"))
    assert unavailable.status is Status.FAIL
    assert unavailable.reason == "api: 1/3 replicas available"
    kube.add_deployment("worker", replicas=2, available=0, updated=1, generation=5, observed=4)
    rolling = await run_one(ctx, **deployment(url, name="worker"))
    assert rolling.reason == (
        "worker: 0/2 replicas available; 1/2 replicas updated; generation 5 not yet observed (at 4)"
    )
    assert rolling.values["available"] == 0  # omitted by the API when zero


async def test_api_refusals_are_errors(
    cluster: tuple[Kubernetes, str], ctx: CheckContext, environ: dict[str, str]
) -> None:
    _, url = cluster
    missing = await run_one(ctx, **deployment(url, name="nope"))
    assert missing.status is Status.ERROR
    assert missing.reason == 'Kubernetes answered 404 Not Found: deployments.apps "nope" not found'
    anonymous = await run_one(ctx, **nodes(url, token_env=None))
    assert anonymous.reason.startswith(
        'Kubernetes answered 403 Forbidden: nodes is forbidden: User "system:anonymous"'
    )
    environ[TOKEN_ENV] = "stale"
    wrong = await run_one(ctx, **nodes(url))
    assert wrong.reason == "Kubernetes answered 401 Unauthorized: Unauthorized"
    del environ[TOKEN_ENV]
    unset = await run_one(ctx, **nodes(url))
    assert unset.reason == f"no token: environment variable {TOKEN_ENV} is not set"


async def test_token_file_and_cluster_ca_over_https(ctx: CheckContext, tmp_path: Path) -> None:
    ca = trustme.CA()
    server = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1").configure_cert(server)
    ca_file, token_file = tmp_path / "ca.crt", tmp_path / "token"
    ca.cert_pem.write_to_path(str(ca_file))
    kube = Kubernetes(nodes={"node-a": True})
    token_file.write_text(kube.token + "\n")
    async with serve(kube.app(), tls=server) as url:
        check = nodes(url, token_env=None, token_file=str(token_file))
        trusted = await run_one(ctx, **check, ca_file=str(ca_file))
        # the shared client trusts only the system's CAs
        untrusted = await run_one(ctx, **check)
    assert trusted.status is Status.PASS, trusted.reason
    assert trusted.reason == "1/1 nodes Ready"
    assert untrusted.status is Status.ERROR
    assert untrusted.reason.startswith("GET /api/v1/nodes?limit=100: TLS failed")
    gone = await run_one(ctx, **nodes(url, token_env=None, token_file=str(tmp_path / "nope")))
    assert gone.reason == f"cannot read token_file {tmp_path / 'nope'}: No such file or directory"


@pytest.mark.parametrize(
    ("raw", "field", "words"),
    [
        ({"kind": "deployment"}, None, "name is required when kind is deployment"),
        ({"kind": "nodes", "name": "api"}, None, "name is only for kind deployment"),
        ({"kind": "nodes", "token_env": "T", "token_file": "/t"}, None, "not both"),
        ({"kind": "pods"}, "kind", "'nodes' or 'deployment'"),
        ({"kind": "deployment", "name": "API_v2"}, "name", "should match pattern"),
    ],
)
def test_bad_parameters(raw: dict[str, object], field: str | None, words: str) -> None:
    with pytest.raises(ValidationError) as raised:
        REGISTRY.parse({"type": "kubernetes", "api_url": "https://k8s:6443", **raw})
    (error,) = raised.value.errors()
    assert error["loc"] == ((field,) if field else ())
    assert words in error["msg"]


def test_defaults() -> None:
    parsed = REGISTRY.parse(
        {"type": "kubernetes", "api_url": "https://k8s:6443", "kind": "deployment", "name": "api"}
    )
    assert parsed.model_dump(include={"namespace", "token_env", "token_file", "ca_file"}) == {
        "namespace": "default",
        "token_env": None,
        "token_file": None,
        "ca_file": None,
    }
