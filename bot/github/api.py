"""GitHub's REST API as the app speaks it: an installation token from a JWT, and the
answer to a workflow run's deployment protection rule."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import httpx

REFRESH_BEFORE = timedelta(minutes=5)  # an installation token is renewed this long before it ends


class GitHubRefused(Exception):
    """GitHub refused the call for good (the run is gone, the rule no longer applies…)."""


class GitHubUnavailable(Exception):
    """GitHub could not be reached or failed: try again later."""


@dataclass
class GitHubApp:
    """The app's credentials, and the installation tokens it holds (cached until shortly
    before they expire)."""

    http: httpx.AsyncClient
    api_url: str
    app_id: str
    private_key: str
    _tokens: dict[int, tuple[str, datetime]] = field(default_factory=dict)

    def app_jwt(self) -> str:
        """RS256, issued 60 s in the past (GitHub's clock may be behind), valid 9 minutes.
        PyJWT loads here: with cryptography it took ~30 ms of every start, GitHub or not."""
        import jwt

        now = int(time.time())
        claims = {"iat": now - 60, "exp": now + 540, "iss": self.app_id}
        return jwt.encode(claims, self.private_key, algorithm="RS256")

    async def token(self, installation_id: int) -> str:
        held = self._tokens.get(installation_id)
        if held is not None and held[1] - REFRESH_BEFORE > datetime.now(UTC):
            return held[0]
        answer = await self._call(
            "POST",
            f"/app/installations/{installation_id}/access_tokens",
            {"Authorization": f"Bearer {self.app_jwt()}"},
        )
        body = answer.json()
        expires = datetime.fromisoformat(str(body["expires_at"]).replace("Z", "+00:00"))
        self._tokens[installation_id] = (str(body["token"]), expires)
        return str(body["token"])

    async def review(
        self,
        repository: str,
        run_id: int,
        installation_id: int,
        environment: str,
        state: str | None,
        comment: str,
    ) -> None:
        """Answer the run's rule for ENVIRONMENT (STATE None: a progress report)."""
        body: dict[str, str] = {"environment_name": environment, "comment": comment}
        if state is not None:
            body["state"] = state
        path = f"/repos/{repository}/actions/runs/{run_id}/deployment_protection_rule"
        for attempt in (1, 2):
            token = await self.token(installation_id)
            try:
                await self._call("POST", path, {"Authorization": f"Bearer {token}"}, body)
                return
            except GitHubUnavailable as exc:  # a revoked token: once more with a new one
                if attempt == 2 or "answered 401" not in str(exc):
                    raise
                self._tokens.pop(installation_id, None)

    async def _call(
        self, method: str, path: str, headers: dict[str, str], body: object | None = None
    ) -> httpx.Response:
        try:
            answer = await self.http.request(
                method,
                self.api_url.rstrip("/") + path,
                json=body,
                headers={
                    "Accept": "application/vnd.github+json",
                    "X-GitHub-Api-Version": "2022-11-28",
                    **headers,
                },
                timeout=10.0,
            )
        except httpx.HTTPError as exc:
            raise GitHubUnavailable(f"{type(exc).__name__}: {exc}") from exc
        status = answer.status_code
        if status < 400:
            return answer
        said = f"GitHub answered {status}: {_message(answer)}"
        if status in (401, 403, 429) or status >= 500:  # credentials, rate limits, outages
            raise GitHubUnavailable(said)
        raise GitHubRefused(said)  # 404, 422: the run or its rule is not there to answer


def _message(answer: httpx.Response) -> str:
    try:
        return str(answer.json().get("message", ""))[:300]
    except ValueError:
        return answer.text[:300]
