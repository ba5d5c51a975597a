"""github_actions: the workflow-runs API answered by a local stand-in."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta

import pytest
from pydantic import ValidationError
from standins import REGISTRY, GitHub, run_one, serve

from checks import CheckContext, Status

TOKEN_ENV = "READINESS_TEST_GITHUB_TOKEN"


@pytest.fixture
async def github() -> AsyncIterator[tuple[GitHub, str]]:
    hub = GitHub()
    hub.add_run("acme/shop", "deploy.yml", 122, "failure", age=timedelta(days=1))
    hub.add_run("acme/shop", "deploy.yml", 123, "success", age=timedelta(hours=2, minutes=5))
    hub.add_run("acme/shop", "deploy.yml", 124, None, age=timedelta(minutes=1))  # running
    hub.add_run("acme/shop", "deploy.yml", 125, "failure", branch="release/1.0")
    hub.add_run("acme/shop", "nightly.yml", 7, None, workflow_id=99)
    async with serve(hub.app()) as url:
        yield hub, url


async def test_latest_completed_run_succeeded(
    github: tuple[GitHub, str], ctx: CheckContext, environ: dict[str, str]
) -> None:
    hub, url = github
    environ.pop(TOKEN_ENV, None)
    result = await run_one(
        ctx,
        type="github_actions",
        repo="acme/shop",
        workflow="deploy.yml",
        api_url=url,
        token_env=TOKEN_ENV,
    )
    assert result.status is Status.PASS, result.reason
    assert result.reason == "latest run of deploy.yml on main: success (#123, 2h ago)"
    assert result.values["html_url"] == "https://github.com/acme/shop/actions/runs/30433765"
    (request,) = hub.requests
    assert request.path == "/repos/acme/shop/actions/workflows/deploy.yml/runs"
    assert dict(request.query) == {"branch": "main", "status": "completed", "per_page": "1"}
    assert request.headers["Accept"] == "application/vnd.github+json"
    assert request.headers["X-GitHub-Api-Version"] == "2022-11-28"
    assert "Authorization" not in request.headers


async def test_failed_run_fails_and_workflow_id_works(
    github: tuple[GitHub, str], ctx: CheckContext
) -> None:
    _, url = github
    result = await run_one(
        ctx,
        type="github_actions",
        repo="acme/shop",
        workflow=161335,
        branch="release/1.0",
        api_url=url,
    )
    assert result.status is Status.FAIL
    assert result.reason == "latest run of 161335 on release/1.0: failure (#125, 2h ago)"
    assert result.values["conclusion"] == "failure"


async def test_no_completed_run_is_an_error(github: tuple[GitHub, str], ctx: CheckContext) -> None:
    _, url = github
    result = await run_one(ctx, type="github_actions", repo="acme/shop", workflow=99, api_url=url)
    assert result.status is Status.ERROR
    assert result.reason == "found no completed run of 99 on main in acme/shop"


async def test_private_repository_needs_the_token(
    github: tuple[GitHub, str], ctx: CheckContext, environ: dict[str, str]
) -> None:
    hub, url = github
    hub.private.add("acme/shop")
    check = {
        "type": "github_actions",
        "repo": "acme/shop",
        "workflow": "deploy.yml",
        "api_url": url,
        "token_env": TOKEN_ENV,
    }
    environ.pop(TOKEN_ENV, None)
    hidden = await run_one(ctx, **check)
    assert hidden.status is Status.ERROR
    assert hidden.reason == (
        "GitHub answered 404 Not Found for acme/shop workflow deploy.yml: "
        f"Not Found (no token in {TOKEN_ENV})"
    )
    environ[TOKEN_ENV] = "ghp_wrong"
    wrong = await run_one(ctx, **check)
    assert wrong.reason == (
        "GitHub answered 401 Unauthorized for acme/shop workflow deploy.yml: Bad credentials"
    )
    environ[TOKEN_ENV] = hub.token
    allowed = await run_one(ctx, **check)
    assert allowed.status is Status.PASS, allowed.reason
    assert hub.requests[-1].headers["Authorization"] == f"Bearer {hub.token}"


async def test_unknown_workflow_is_an_error(github: tuple[GitHub, str], ctx: CheckContext) -> None:
    _, url = github
    result = await run_one(
        ctx, type="github_actions", repo="acme/shop", workflow="nope.yml", api_url=url
    )
    assert result.status is Status.ERROR
    assert result.reason.startswith("GitHub answered 404 Not Found for acme/shop workflow nope.yml")


def test_defaults_and_bad_parameters() -> None:
    parsed = REGISTRY.parse({"type": "github_actions", "repo": "acme/shop", "workflow": "ci.yml"})
    assert parsed.model_dump(include={"branch", "token_env", "api_url"}) == {
        "branch": "main",
        "token_env": "GITHUB_TOKEN",
        "api_url": "https://api.github.com",
    }
    for field, value in (("repo", "shop"), ("api_url", "api.github.com"), ("branch", "")):
        raw = {"type": "github_actions", "repo": "acme/shop", "workflow": "ci.yml", field: value}
        with pytest.raises(ValidationError) as raised:
            REGISTRY.parse(raw)
        assert raised.value.errors()[0]["loc"] == (field,)
