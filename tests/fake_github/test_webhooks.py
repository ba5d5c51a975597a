"""The webhooks: payloads shaped as GitHub's, and the driver delivering them signed as
GitHub signs them, to a real local server that checks signatures as an app must."""

from __future__ import annotations

import hashlib
import hmac
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field

import httpx
import jwt
import pytest
from aiohttp import web

from bot.fake_github import FakeGitHubThread, GitHubDriver, sign
from bot.fake_slack.loop import LoopThread
from tests.fake_github.conftest import APP_ID, INSTALLATION, REPO, SHA, World

SECRET = "It's a Secret to Everybody"


@dataclass
class Receiver:
    """An app's webhook endpoint: 401 unless `X-Hub-Signature-256` verifies, else 202."""

    url: str = ""
    received: list[tuple[dict[str, str], bytes]] = field(default_factory=list)

    async def handle(self, request: web.Request) -> web.Response:
        body = await request.read()
        self.received.append((dict(request.headers), body))
        expected = "sha256=" + hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
        given = request.headers.get("X-Hub-Signature-256", "")
        return web.Response(status=202 if hmac.compare_digest(given, expected) else 401)


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    loop, receiver = LoopThread("receiver", "receiver"), Receiver()
    app = web.Application()
    app.router.add_post("/github/events", receiver.handle)
    runner = web.AppRunner(app, access_log=None)

    async def up() -> str:
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        return f"http://127.0.0.1:{runner.addresses[0][1]}"

    loop.start()
    receiver.url = loop.run(up())
    yield receiver
    loop.run(runner.cleanup())
    loop.stop()


def test_sign_is_githubs_documented_example() -> None:
    # GitHub's "Validating webhook deliveries" gives this secret, body and signature.
    expected = "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17"
    assert sign(SECRET, b"Hello, World!") == expected


async def test_the_protection_rule_payload_names_its_callback_run_and_deployment(
    world: World,
) -> None:
    payload = world.github.request_protection(REPO, "production", SHA, run_id=77)

    assert payload["action"] == "requested" and payload["event"] == "push"
    assert payload["environment"] == "production" and payload["sha"] == SHA
    assert payload["ref"] == "refs/heads/main"
    callback = f"{world.github.api_url}/repos/{REPO}/actions/runs/77/deployment_protection_rule"
    assert payload["deployment_callback_url"] == callback
    assert payload["installation"] == {"id": INSTALLATION}
    assert payload["repository"]["full_name"] == REPO
    assert payload["repository"]["name"] == "lumines"
    assert payload["repository"]["owner"]["login"] == "acme"
    assert payload["repository"]["html_url"] == "https://github.com/acme/lumines"
    assert payload["deployment"]["sha"] == SHA
    assert payload["deployment"]["environment"] == "production"
    assert isinstance(payload["deployment"]["id"], int)
    assert payload["sender"]["login"]
    assert world.github.run_url(REPO, 77) == "https://github.com/acme/lumines/actions/runs/77"
    assert world.github.rule_state(REPO, 77, "production") == "pending"


async def test_the_deployment_can_be_null_as_in_real_payloads(world: World) -> None:
    payload = world.github.request_protection(REPO, "production", SHA, deployment=None)
    assert payload["deployment"] is None


async def test_a_deployment_status_follows_the_run_that_waited(world: World) -> None:
    rule = world.github.request_protection(REPO, "production", SHA, run_id=88)

    status = world.github.deployment_status_payload(REPO, "production", SHA)

    assert status["action"] == "created"
    assert status["deployment_status"]["state"] == "success"
    assert status["deployment_status"]["environment"] == "production"
    assert status["deployment_status"]["creator"]["login"] == "github-actions[bot]"
    assert status["deployment"]["id"] == rule["deployment"]["id"]
    assert status["deployment"]["sha"] == SHA and status["deployment"]["ref"] == "refs/heads/main"
    assert status["workflow_run"]["id"] == 88
    assert status["workflow_run"]["html_url"] == world.github.run_url(REPO, 88)
    assert status["workflow_run"]["head_sha"] == SHA
    assert status["check_run"]["conclusion"] == "success"
    assert status["deployment_status"]["log_url"].startswith(world.github.run_url(REPO, 88))
    assert status["installation"] == {"id": INSTALLATION}
    with pytest.raises(ValueError, match="deployment status"):
        world.github.deployment_status_payload(REPO, "production", SHA, state="done")


def test_a_delivery_is_signed_and_carries_githubs_headers(receiver: Receiver) -> None:
    with GitHubDriver(receiver.url, SECRET, app_id=APP_ID) as driver:
        answer = driver.deliver("deployment_protection_rule", {"action": "requested"})

    assert answer.status_code == 202
    [(headers, body)] = receiver.received
    assert headers["X-GitHub-Event"] == "deployment_protection_rule"
    assert uuid.UUID(headers["X-GitHub-Delivery"])
    assert headers["X-Hub-Signature-256"] == sign(SECRET, body)
    assert headers["User-Agent"].startswith("GitHub-Hookshot/")
    assert headers["Content-Type"] == "application/json"
    assert headers["X-GitHub-Hook-Installation-Target-ID"] == str(APP_ID)
    assert body == b'{"action":"requested"}'
    assert driver.last_delivery_id == headers["X-GitHub-Delivery"]


def test_the_same_delivery_can_be_sent_twice(receiver: Receiver) -> None:
    with GitHubDriver(f"{receiver.url}/github/events", SECRET) as driver:
        driver.deliver("ping", {"zen": "Keep it logically awesome."}, delivery_id="d-1")
        driver.deliver("ping", {"zen": "Keep it logically awesome."}, delivery_id="d-1")
        driver.redeliver()

    ids = [h["X-GitHub-Delivery"] for h, _ in receiver.received]
    assert ids == ["d-1", "d-1", "d-1"]
    assert len({body for _, body in receiver.received}) == 1


@pytest.mark.parametrize("how", ["wrong-secret", "missing", "tampered", "sha1-only", "malformed"])
def test_forged_deliveries_do_not_verify(receiver: Receiver, how: str) -> None:
    with GitHubDriver(receiver.url, SECRET) as driver:
        answer = driver.forged("deployment_protection_rule", {"action": "requested"}, how=how)
        assert answer.status_code == 401
        assert driver.deliver("ping", {}, secret="another secret").status_code == 401


def test_the_thread_runs_the_whole_exchange_for_synchronous_tests() -> None:
    with FakeGitHubThread() as github:
        key = github.add_app(APP_ID)
        github.add_installation(INSTALLATION, APP_ID, [REPO])
        run_id = 99
        github.request_protection(REPO, "production", SHA, run_id=run_id)
        now = int(time.time())
        app_jwt = jwt.encode(
            {"iat": now - 60, "exp": now + 540, "iss": str(APP_ID)}, key, algorithm="RS256"
        )
        with httpx.Client(base_url=github.api_url) as http:
            token = http.post(
                f"/app/installations/{INSTALLATION}/access_tokens",
                headers={"Authorization": f"Bearer {app_jwt}"},
            ).json()["token"]
            http.post(
                f"/repos/{REPO}/actions/runs/{run_id}/deployment_protection_rule",
                json={"environment_name": "production", "state": "approved", "comment": "ok"},
                headers={"Authorization": f"token {token}"},
            )

        reviews = github.wait_for(lambda g: g.reviews(REPO, run_id))
        assert [r["state"] for r in reviews] == ["approved"]
        assert github.tokens_issued()[0].token == token
        assert [c.status for c in github.calls()] == [201, 204]
        reviews[0]["state"] = "changed"  # a copy: the fake's record stays as it was
        assert github.reviews()[0]["state"] == "approved"
