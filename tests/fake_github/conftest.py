"""The fake GitHub's own tests: a fake on port 0 with one app installed on acme/lumines,
a clock the tests move, and JWTs made with PyJWT as an app would make them."""

from __future__ import annotations

import functools
import json
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx
import jwt
import pytest
import pytest_asyncio
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.types import PrivateKeyTypes

from bot.fake_github import FakeGitHub

APP_ID = 4242
INSTALLATION = 7001
REPO = "acme/lumines"
SHA = "0123456789abcdef0123456789abcdef01234567"


@functools.cache
def loaded(pem: str) -> PrivateKeyTypes:
    """The key, parsed once: cryptography checks an RSA key as it loads it (~0.1 s)."""
    return serialization.load_pem_private_key(pem.encode(), password=None)


class Clock:
    """Real time, plus however far a test has moved it."""

    def __init__(self) -> None:
        self.offset = 0.0

    def __call__(self) -> float:
        return time.time() + self.offset

    def advance(self, seconds: float) -> None:
        self.offset += seconds


@dataclass
class World:
    github: FakeGitHub
    http: httpx.AsyncClient
    key: str  # the app's private key (PEM)
    clock: Clock

    def jwt(self, iat: float = -60, exp: float = 540, key: str | None = None, **claims: Any) -> str:
        """An app JWT: `iat`/`exp` are seconds from now on the fake's clock. Signed through
        PyJWS, since PyJWT's encode refuses the number `iss` GitHub accepts."""
        now = int(self.clock())
        body = {"iat": now + int(iat), "exp": now + int(exp), "iss": APP_ID, **claims}
        signing_key = loaded(key or self.key)
        return jwt.api_jws.encode(json.dumps(body).encode(), signing_key, algorithm="RS256")

    async def token(self, installation: int = INSTALLATION, **jwt_args: Any) -> httpx.Response:
        return await self.http.post(
            f"/app/installations/{installation}/access_tokens",
            headers={"Authorization": f"Bearer {self.jwt(**jwt_args)}"},
        )

    async def installation_token(self, installation: int = INSTALLATION) -> str:
        answer = await self.token(installation)
        assert answer.status_code == 201, answer.text
        return str(answer.json()["token"])

    async def review(
        self, run_id: int, body: Any, token: str, scheme: str = "Bearer", repo: str = REPO
    ) -> httpx.Response:
        return await self.http.post(
            f"/repos/{repo}/actions/runs/{run_id}/deployment_protection_rule",
            json=body,
            headers={"Authorization": f"{scheme} {token}"},
        )


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest_asyncio.fixture
async def world(clock: Clock) -> AsyncIterator[World]:
    async with FakeGitHub(clock=clock) as github:
        key = github.add_app(APP_ID)
        github.add_installation(INSTALLATION, APP_ID, [REPO, "acme/tetris"])
        async with httpx.AsyncClient(base_url=github.api_url, timeout=10.0) as http:
            yield World(github, http, key, clock)
