"""FakeGitHub: a local HTTP server that answers like GitHub's REST API for a GitHub App
gating deployments, and remembers everything.

It serves `POST /app/installations/{id}/access_tokens` (a JWT buys an installation token)
and `POST /repos/{owner}/{repo}/actions/runs/{run_id}/deployment_protection_rule` (the
token reviews a rule the test asked for with `request_protection`); any other path is
GitHub's 404. Every request is recorded as a `Call`, faulted or not.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable, Mapping
from types import EllipsisType
from typing import Any, TypeVar

from aiohttp import web

from bot.fake_github import payloads
from bot.fake_github.auth import Apps
from bot.fake_github.faults import Delay, Fault, fault_reply, take_delay, take_fault
from bot.fake_github.model import JSON, Call, GitHubError, Review, Token, not_found
from bot.fake_github.rules import Rules
from bot.fake_github.scene import Scene
from bot.fake_slack.served import Served

T = TypeVar("T")
Outcome = tuple[int, Any]  # (status, JSON body or None)


class Unparsed:
    """A request body that is not JSON."""

    def __init__(self, text: str) -> None:
        self.text = text


class FakeGitHub(Served):
    """GitHub's REST API on 127.0.0.1, port 0 unless told otherwise."""

    def __init__(
        self, host: str = "127.0.0.1", port: int = 0, *, clock: Callable[[], float] = time.time
    ) -> None:
        super().__init__(web.Application(), host, port)
        self.clock = clock
        self.apps = Apps(clock)
        self.rules = Rules(clock)
        self.app.add_routes(
            [
                web.post("/app/installations/{installation}/access_tokens", self._on_token),
                web.post(
                    "/repos/{owner}/{name}/actions/runs/{run}/deployment_protection_rule",
                    self._on_review,
                ),
                web.route("*", "/{tail:.*}", self._on_other),
            ]
        )
        self._calls: list[Call] = []
        self._faults: list[Fault] = []
        self._delays: list[Delay] = []
        self.scene = Scene(self.apps, self.rules, lambda: self.api_url)

    # --- lifecycle ----------------------------------------------------------------------

    @property
    def api_url(self) -> str:
        """What GITHUB_API_URL is set to: `http://127.0.0.1:PORT`, no trailing slash."""
        return f"http://{self.host}:{self.port}"

    # --- HTTP ---------------------------------------------------------------------------

    async def _on_token(self, request: web.Request) -> web.StreamResponse:
        def apply(body: Any) -> Outcome:
            installation = _number(request.match_info["installation"])
            auth = request.headers.get("Authorization")
            token = self.apps.exchange(auth, installation, _json(body, optional=True))
            return 201, self.apps.answer(token, body)

        return await self._answer(request, apply)

    async def _on_review(self, request: web.Request) -> web.StreamResponse:
        repo = f"{request.match_info['owner']}/{request.match_info['name']}"

        def apply(body: Any) -> Outcome:
            token = self.apps.authenticate(request.headers.get("Authorization"))
            run_id = _number(request.match_info["run"])
            self.rules.review(token, repo, run_id, _json(body))
            return 204, None

        return await self._answer(request, apply)

    async def _on_other(self, request: web.Request) -> web.StreamResponse:
        def apply(_: Any) -> Outcome:
            raise not_found()

        return await self._answer(request, apply)

    async def _answer(
        self, request: web.Request, apply: Callable[[Any], Outcome]
    ) -> web.StreamResponse:
        at, headers, path = self.clock(), dict(request.headers), request.path
        body = _parse(await request.read())
        recorded = body.text if isinstance(body, Unparsed) else body
        seconds = take_delay(self._delays, path)
        if seconds:
            await asyncio.sleep(seconds)
        fault = take_fault(self._faults, path)
        if fault is not None:
            reply, said = fault_reply(fault)
            call = Call(request.method, path, headers, recorded, at, fault.status, said, True)
            self._record(call, seconds)
            return reply
        try:
            status, answer = apply(body)
        except GitHubError as refused:
            status, answer = refused.status, refused.body()
        self._record(Call(request.method, path, headers, recorded, at, status, answer), seconds)
        if answer is None:
            return web.Response(status=status)
        return web.json_response(answer, status=status)

    def _record(self, call: Call, delayed: float) -> None:
        if delayed:
            call = Call(**{**call.__dict__, "delayed": delayed})
        self._calls.append(call)
        self.touch()

    # --- setting the scene --------------------------------------------------------------

    def add_app(self, app_id: int, client_id: str | None = None) -> str:
        """Register an app; return its private key (PEM) for the bot's configuration."""
        return self.apps.add_app(app_id, client_id)

    def client_id(self, app_id: int) -> str:
        return self.apps.apps[app_id].client_id

    def add_installation(
        self,
        installation_id: int,
        app_id: int,
        repositories: list[str],
        permissions: Mapping[str, str] | None = None,
    ) -> None:
        self.apps.add_installation(installation_id, app_id, repositories, permissions)

    def set_token_lifetime(self, seconds: float) -> None:
        """Tokens issued from now on last `seconds` (GitHub's: an hour)."""
        self.apps.token_lifetime = seconds

    def request_protection(
        self,
        repo: str,
        environment: str,
        sha: str,
        run_id: int | None = None,
        ref: str = "refs/heads/main",
        installation_id: int | None = None,
        *,
        event: str = "push",
        deployment: JSON | EllipsisType | None = ...,
        sender: Mapping[str, Any] | None = None,
    ) -> JSON:
        """A job of run `run_id` (a new run unless given) waits on `environment`: register the
        pending rule and return the `deployment_protection_rule` payload GitHub would send.
        The installation is the one that includes `repo` unless given. `deployment`: made up
        unless given; None sends null, as GitHub sometimes does."""
        payload = self.scene.request_protection(
            repo, environment, sha, run_id, ref, installation_id, event, deployment, sender
        )
        self.touch()
        return payload

    def deployment_status_payload(
        self,
        repo: str,
        environment: str,
        sha: str,
        state: str = "success",
        run_id: int | None = None,
        ref: str | None = None,
    ) -> JSON:
        """The `deployment_status` event for the job that waited on `environment` in
        `run_id` (by default the latest run that waited on it for `sha`; a new run if none
        did), with that run's deployment, ref and installation."""
        return self.scene.deployment_status(repo, environment, sha, state, run_id, ref)

    @staticmethod
    def run_url(repo: str, run_id: int) -> str:
        return payloads.run_url(repo, run_id)

    def cancel_run(self, repo: str, run_id: int) -> None:
        """The run is cancelled: its rules are no longer pending; every review call is 422."""
        self.rules.cancel(repo, run_id)
        self.touch()

    def fail_next(
        self,
        path_substring: str,
        status: int = 502,
        times: int = 1,
        *,
        retry_after: int | None = None,
        message: str | None = None,
    ) -> None:
        """The next `times` calls whose path contains `path_substring` answer `status` and
        change nothing (recorded with `faulted=True`)."""
        self._faults.append(Fault(path_substring, status, times, retry_after, message))

    def delay_next(self, path_substring: str, seconds: float, times: int = 1) -> None:
        """The next `times` calls whose path contains `path_substring` wait `seconds` first."""
        self._delays.append(Delay(path_substring, seconds, times))

    def clear(self) -> None:
        """Forget recorded calls (apps, tokens, rules and reviews stay)."""
        self._calls.clear()

    # --- looking at the state -----------------------------------------------------------

    def calls(self, path_substring: str | None = None) -> list[Call]:
        return [c for c in self._calls if path_substring is None or path_substring in c.path]

    def tokens_issued(self) -> list[Token]:
        return list(self.apps.issued)

    def reviews(self, repo: str | None = None, run_id: int | None = None) -> list[JSON]:
        """The decisions (approved / rejected) GitHub accepted, oldest first."""
        return [r.as_dict() for r in self._reviews(repo, run_id) if r.state is not None]

    def reports(self, repo: str | None = None, run_id: int | None = None) -> list[JSON]:
        """The status reports (comment-only calls) GitHub accepted, oldest first."""
        return [r.as_dict() for r in self._reviews(repo, run_id) if r.state is None]

    def rule_state(self, repo: str, run_id: int, environment: str) -> str | None:
        """ "pending", "approved", "rejected" or "cancelled"; None if never requested."""
        rule = self.rules.find(repo, run_id, environment)
        return rule.state if rule else None

    def _reviews(self, repo: str | None, run_id: int | None) -> list[Review]:
        return [
            r
            for r in self.rules.reviews
            if (repo is None or r.repo.lower() == repo.lower()) and run_id in (None, r.run_id)
        ]

    def summary(self, last: int = 30) -> str:
        lines = [f"{len(self._calls)} call(s) recorded"]
        lines += [f"  {c.describe()}" for c in self._calls[-last:]]
        return "\n".join(lines)


def _parse(raw: bytes) -> Any:
    if not raw.strip():
        return None
    try:
        return json.loads(raw)
    except (json.JSONDecodeError, UnicodeDecodeError):
        return Unparsed(raw.decode(errors="replace"))


def _json(body: Any, optional: bool = False) -> Any:
    if isinstance(body, Unparsed) or (body is not None and not isinstance(body, dict)):
        raise GitHubError(400, "Problems parsing JSON")
    if body is None and not optional:
        raise GitHubError(400, "Problems parsing JSON")
    return body


def _number(text: str) -> int:
    if not text.isdigit():
        raise not_found()
    return int(text)
