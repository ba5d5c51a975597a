"""The review endpoint of custom deployment protection rules, as GitHub's REST docs and
"Creating custom deployment protection rules" describe it: 204 for what it accepts, and
GitHub's refusals for the rest, every call recorded."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from tests.fake_github.conftest import APP_ID, INSTALLATION, REPO, SHA, World

ENV = "production"


def waiting(world: World, environment: str = ENV, repo: str = REPO) -> int:
    payload = world.github.request_protection(repo, environment, SHA)
    return int(payload["deployment_callback_url"].split("/")[-2])


def refused(answer: httpx.Response, status: int = 422) -> str:
    assert answer.status_code == status, answer.text
    body = answer.json()
    assert set(body) == {"message", "documentation_url"}
    return str(body["message"])


async def test_a_decision_with_an_issued_token_is_accepted_and_recorded(world: World) -> None:
    run_id = waiting(world)
    token = await world.installation_token()
    body = {"environment_name": ENV, "state": "approved", "comment": "Signed off by Ada"}

    answer = await world.review(run_id, body, token)

    assert answer.status_code == 204 and answer.content == b""
    [review] = world.github.reviews(REPO, run_id)
    assert review["state"] == "approved" and review["comment"] == "Signed off by Ada"
    assert review["token"] == token and review["installation_id"] == INSTALLATION
    assert world.github.rule_state(REPO, run_id, ENV) == "approved"
    call = world.github.calls("/deployment_protection_rule")[-1]
    assert call.body == body and call.status == 204
    assert call.authorization == f"Bearer {token}" and call.at > 0


async def test_the_token_scheme_works_as_bearer_does(world: World) -> None:
    run_id = waiting(world)
    token = await world.installation_token()
    body = {"environment_name": ENV, "state": "rejected", "comment": "Release cancelled"}

    assert (await world.review(run_id, body, token, scheme="token")).status_code == 204
    assert world.github.reviews()[0]["state"] == "rejected"


async def test_ten_status_reports_then_the_eleventh_is_refused(world: World) -> None:
    run_id = waiting(world)
    token = await world.installation_token()
    for n in range(10):
        report = {"environment_name": ENV, "comment": f"waiting on QA ({n})"}
        assert (await world.review(run_id, report, token)).status_code == 204

    eleventh = await world.review(run_id, {"environment_name": ENV, "comment": "more"}, token)

    assert "at most 10 status reports" in refused(eleventh)
    assert len(world.github.reports(REPO, run_id)) == 10
    assert world.github.reviews(REPO, run_id) == []
    decided = {"environment_name": ENV, "state": "approved"}
    assert (await world.review(run_id, decided, token)).status_code == 204


async def test_once_decided_nothing_more_is_accepted(world: World) -> None:
    run_id = waiting(world)
    token = await world.installation_token()
    approve = {"environment_name": ENV, "state": "approved", "comment": "ok"}
    assert (await world.review(run_id, approve, token)).status_code == 204

    again = await world.review(run_id, approve, token)
    reject = await world.review(run_id, {**approve, "state": "rejected"}, token)
    report = await world.review(run_id, {"environment_name": ENV, "comment": "late"}, token)

    for answer in (again, reject, report):
        assert refused(answer).startswith("No pending custom deployment requests")
    assert len(world.github.reviews(REPO, run_id)) == 1


async def test_a_cancelled_run_refuses_everything(world: World) -> None:
    run_id = waiting(world)
    token = await world.installation_token()
    world.github.cancel_run(REPO, run_id)

    decision = await world.review(run_id, {"environment_name": ENV, "state": "approved"}, token)
    report = await world.review(run_id, {"environment_name": ENV, "comment": "hm"}, token)

    assert refused(decision) == refused(report)
    assert world.github.rule_state(REPO, run_id, ENV) == "cancelled"
    assert world.github.reviews() == world.github.reports() == []


async def test_a_token_for_an_installation_without_the_repo_is_not_found(world: World) -> None:
    world.github.add_installation(7002, APP_ID, ["acme/other"])
    run_id = waiting(world)
    token = await world.installation_token(7002)

    answer = await world.review(run_id, {"environment_name": ENV, "state": "approved"}, token)

    assert refused(answer, 404) == "Not Found"
    assert world.github.rule_state(REPO, run_id, ENV) == "pending"


async def test_another_apps_token_finds_no_pending_rule_of_its_own(world: World) -> None:
    other_key = world.github.add_app(5151)
    world.github.add_installation(8001, 5151, [REPO])
    payload = world.github.request_protection(REPO, ENV, SHA, installation_id=INSTALLATION)
    run_id = int(payload["deployment_callback_url"].split("/")[-2])
    answer = await world.http.post(
        "/app/installations/8001/access_tokens",
        headers={"Authorization": f"Bearer {world.jwt(iss=5151, key=other_key)}"},
    )
    assert answer.status_code == 201, answer.text

    decision = {"environment_name": ENV, "state": "approved"}
    review = await world.review(run_id, decision, answer.json()["token"])

    assert refused(review).startswith("No pending custom deployment requests")
    assert world.github.rule_state(REPO, run_id, ENV) == "pending"


async def test_a_comment_over_1024_characters_is_refused(world: World) -> None:
    run_id = waiting(world)
    token = await world.installation_token()

    too_long = {"environment_name": ENV, "state": "approved", "comment": "x" * 1025}
    assert "1024" in refused(await world.review(run_id, too_long, token))
    assert world.github.reviews() == []
    just_fits = {**too_long, "comment": "x" * 1024}
    assert (await world.review(run_id, just_fits, token)).status_code == 204


@pytest.mark.parametrize(
    "body",
    [
        {"environment_name": "staging", "state": "approved"},
        {"environment_name": ENV, "state": "maybe"},
        {"state": "approved"},
        {"environment_name": ENV},
        {"environment_name": ENV, "comment": 12},
    ],
    ids=["other environment", "bad state", "no environment", "nothing to say", "comment type"],
)
async def test_a_call_that_is_not_a_valid_review_is_422(world: World, body: object) -> None:
    run_id = waiting(world)
    token = await world.installation_token()

    refused(await world.review(run_id, body, token))
    assert world.github.rule_state(REPO, run_id, ENV) == "pending"


async def test_bad_credentials_an_unknown_run_and_bad_json(world: World) -> None:
    run_id = waiting(world)
    token = await world.installation_token()
    decision = {"environment_name": ENV, "state": "approved"}

    assert refused(await world.review(run_id, decision, "ghs_made_up"), 401) == "Bad credentials"
    assert refused(await world.review(run_id, decision, world.jwt()), 401) == "Bad credentials"
    assert refused(await world.review(run_id + 1, decision, token), 404) == "Not Found"
    garbled = await world.http.post(
        f"/repos/{REPO}/actions/runs/{run_id}/deployment_protection_rule",
        content=b"{not json",
        headers={"Authorization": f"Bearer {token}"},
    )
    assert refused(garbled, 400) == "Problems parsing JSON"
    assert refused(await world.http.get("/rate_limit"), 404) == "Not Found"
    assert [c.status for c in world.github.calls()][-5:] == [401, 401, 404, 400, 404]


async def test_two_environments_of_one_run_are_decided_apart(world: World) -> None:
    run_id = waiting(world)
    world.github.request_protection(REPO, "eu-production", SHA, run_id=run_id)
    token = await world.installation_token()

    await world.review(run_id, {"environment_name": ENV, "state": "approved"}, token)

    assert world.github.rule_state(REPO, run_id, ENV) == "approved"
    assert world.github.rule_state(REPO, run_id, "eu-production") == "pending"


async def test_an_injected_fault_changes_nothing_then_passes(world: World) -> None:
    run_id = waiting(world)
    token = await world.installation_token()
    world.github.fail_next("deployment_protection_rule", 502, times=2)
    decision = {"environment_name": ENV, "state": "approved"}

    first, second = (
        await world.review(run_id, decision, token),
        await world.review(run_id, decision, token),
    )
    third = await world.review(run_id, decision, token)

    assert (first.status_code, second.status_code, third.status_code) == (502, 502, 204)
    assert [c.faulted for c in world.github.calls("/deployment_protection_rule")] == [
        True,
        True,
        False,
    ]
    assert len(world.github.reviews()) == 1


async def test_a_rate_limit_fault_says_when_to_retry(world: World) -> None:
    world.github.fail_next("/access_tokens", 429, retry_after=3)

    answer = await world.token()

    assert answer.status_code == 429 and answer.headers["Retry-After"] == "3"
    assert world.github.tokens_issued() == []
    assert (await world.token()).status_code == 201


async def test_a_late_answer_still_acts_when_the_client_gave_up(world: World) -> None:
    run_id = waiting(world)
    token = await world.installation_token()
    world.github.delay_next("deployment_protection_rule", 0.5)
    decision = {"environment_name": ENV, "state": "approved"}

    with pytest.raises(httpx.ReadTimeout):
        await world.http.post(
            f"/repos/{REPO}/actions/runs/{run_id}/deployment_protection_rule",
            json=decision,
            headers={"Authorization": f"Bearer {token}"},
            timeout=0.1,
        )
    reviews = await world.github.wait_for(lambda g: g.reviews(REPO, run_id), timeout=5)

    assert reviews[0]["state"] == "approved"
    assert world.github.calls("/deployment_protection_rule")[-1].delayed == 0.5
    await asyncio.sleep(0)
