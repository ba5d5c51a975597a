"""The fake issues installation tokens as GitHub does: only for an RS256 JWT that verifies
with the app's public key and whose times GitHub would accept."""

from __future__ import annotations

from datetime import UTC, datetime

import httpx
import jwt
import pytest

from bot.fake_github.auth import new_key_pair
from tests.fake_github.conftest import APP_ID, INSTALLATION, REPO, World


def unauthorized(answer: httpx.Response) -> str:
    assert answer.status_code == 401, answer.text
    body = answer.json()
    assert set(body) == {"message", "documentation_url"}
    return str(body["message"])


async def test_a_jwt_signed_with_the_apps_key_gets_a_fresh_token_each_time(world: World) -> None:
    first, second = await world.token(), await world.token()

    assert first.status_code == second.status_code == 201
    body = first.json()
    assert body["token"].startswith("ghs_") and body["token"] != second.json()["token"]
    assert body["repository_selection"] == "selected"
    assert body["permissions"] == {"actions": "read", "deployments": "write", "metadata": "read"}
    assert body["expires_at"].endswith("Z")
    expires = datetime.strptime(body["expires_at"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
    assert 3590 < expires.timestamp() - world.clock() <= 3600
    issued = world.github.tokens_issued()
    assert [t.token for t in issued] == [body["token"], second.json()["token"]]
    assert issued[0].installation_id == INSTALLATION and issued[0].app_id == APP_ID
    call = world.github.calls("/access_tokens")[0]
    assert call.method == "POST" and call.status == 201
    assert call.authorization is not None and call.authorization.startswith("Bearer ey")


@pytest.mark.parametrize("iss", [APP_ID, str(APP_ID), "client-id"])
async def test_iss_is_the_app_id_as_a_number_or_string_or_the_client_id(
    world: World, iss: object
) -> None:
    issuer = world.github.client_id(APP_ID) if iss == "client-id" else iss
    assert (await world.token(iss=issuer)).status_code == 201


async def test_claims_github_does_not_read_are_ignored(world: World) -> None:
    assert (await world.token(aud="https://api.github.com", sub="me", jti=7)).status_code == 201


async def test_a_jwt_signed_with_another_key_is_refused(world: World) -> None:
    other, _ = new_key_pair()
    message = unauthorized(await world.token(key=other))
    assert message == "A JSON web token could not be decoded"
    assert world.github.tokens_issued() == []


async def test_an_expired_jwt_is_refused(world: World) -> None:
    message = unauthorized(await world.token(iat=-600, exp=-1))
    assert "'Expiration time' claim ('exp')" in message


@pytest.mark.parametrize(
    ("iat", "exp"),
    [(-60, 590), (0, 601)],
    ids=["exp-iat over 600 s", "exp over 10 minutes ahead"],
)
async def test_a_jwt_living_over_ten_minutes_is_refused(world: World, iat: int, exp: int) -> None:
    message = unauthorized(await world.token(iat=iat, exp=exp))
    assert message == "'Expiration time' claim ('exp') is too far in the future"


async def test_iat_may_be_a_little_ahead_of_githubs_clock_but_not_more(world: World) -> None:
    assert (await world.token(iat=30, exp=300)).status_code == 201
    assert "'Issued at' claim ('iat')" in unauthorized(await world.token(iat=90, exp=300))


async def test_hs256_and_unsigned_jwts_are_refused(world: World) -> None:
    now = int(world.clock())
    claims = {"iat": now - 60, "exp": now + 500, "iss": str(APP_ID)}
    hs256 = jwt.encode(claims, "a-shared-secret-that-is-long-enough", algorithm="HS256")
    unsigned = jwt.encode(claims, None, algorithm="none")
    for credential in (hs256, unsigned, "not-a-jwt"):
        answer = await world.http.post(
            f"/app/installations/{INSTALLATION}/access_tokens",
            headers={"Authorization": f"Bearer {credential}"},
        )
        unauthorized(answer)


async def test_no_authorization_or_an_unknown_app_is_refused(world: World) -> None:
    unauthorized(await world.http.post(f"/app/installations/{INSTALLATION}/access_tokens"))
    unauthorized(await world.token(iss=999))


async def test_an_installation_that_is_unknown_or_another_apps_is_not_found(world: World) -> None:
    world.github.add_app(5151)
    world.github.add_installation(8001, 5151, ["acme/other"])

    for installation in (9999, 8001):
        answer = await world.token(installation=installation)
        assert answer.status_code == 404
        assert answer.json()["message"] == "Not Found"


async def test_a_token_can_be_narrowed_to_named_repositories(world: World) -> None:
    answer = await world.http.post(
        f"/app/installations/{INSTALLATION}/access_tokens",
        headers={"Authorization": f"Bearer {world.jwt()}"},
        json={"repositories": ["lumines"], "permissions": {"deployments": "write"}},
    )
    assert answer.status_code == 201, answer.text
    assert answer.json()["permissions"] == {"deployments": "write"}
    assert world.github.tokens_issued()[0].repositories == (REPO,)

    refused = await world.http.post(
        f"/app/installations/{INSTALLATION}/access_tokens",
        headers={"Authorization": f"Bearer {world.jwt()}"},
        json={"repositories": ["not-installed"]},
    )
    assert refused.status_code == 422


async def test_a_token_expires_after_its_lifetime(world: World) -> None:
    world.github.set_token_lifetime(120)
    payload = world.github.request_protection(REPO, "production", "a" * 40)
    run_id = int(payload["deployment_callback_url"].split("/")[-2])
    token = await world.installation_token()
    report = {"environment_name": "production", "comment": "still checking"}

    assert (await world.review(run_id, report, token)).status_code == 204
    world.clock.advance(121)
    assert unauthorized(await world.review(run_id, report, token)) == "Bad credentials"
    fresh = await world.installation_token()
    assert (await world.review(run_id, report, fresh)).status_code == 204
