"""FakeGitHubThread: the fake in its own event loop, for synchronous tests and demos.

Every accessor runs on the fake's loop and hands back a deep copy, so what a test holds
never changes under it.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from types import EllipsisType
from typing import Any, TypeVar

from bot.fake_github.model import JSON, Call, Token
from bot.fake_github.payloads import run_url
from bot.fake_github.server import FakeGitHub
from bot.fake_slack.loop import FakeThread

T = TypeVar("T")


class FakeGitHubThread(FakeThread[FakeGitHub]):
    """Runs a FakeGitHub on a daemon thread; `with FakeGitHubThread() as github: ...`."""

    def __init__(
        self, host: str = "127.0.0.1", port: int = 0, *, clock: Callable[[], float] = time.time
    ) -> None:
        super().__init__(
            "fake-github",
            "FakeGitHubThread",
            lambda: FakeGitHub(host=host, port=port, clock=clock),
        )

    # --- the FakeGitHub API, thread-safe ------------------------------------------------

    def add_app(self, app_id: int, client_id: str | None = None) -> str:
        return self.on_loop(lambda f: f.add_app(app_id, client_id))

    def client_id(self, app_id: int) -> str:
        return self.on_loop(lambda f: f.client_id(app_id))

    def add_installation(
        self,
        installation_id: int,
        app_id: int,
        repositories: list[str],
        permissions: Mapping[str, str] | None = None,
    ) -> None:
        repos = list(repositories)
        self.on_loop(lambda f: f.add_installation(installation_id, app_id, repos, permissions))

    def set_token_lifetime(self, seconds: float) -> None:
        self.on_loop(lambda f: f.set_token_lifetime(seconds))

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
        return self.on_loop(
            lambda f: f.request_protection(
                repo,
                environment,
                sha,
                run_id,
                ref,
                installation_id,
                event=event,
                deployment=deployment,
                sender=sender,
            )
        )

    def deployment_status_payload(
        self,
        repo: str,
        environment: str,
        sha: str,
        state: str = "success",
        run_id: int | None = None,
        ref: str | None = None,
    ) -> JSON:
        return self.on_loop(
            lambda f: f.deployment_status_payload(repo, environment, sha, state, run_id, ref)
        )

    @staticmethod
    def run_url(repo: str, run_id: int) -> str:
        return run_url(repo, run_id)

    def cancel_run(self, repo: str, run_id: int) -> None:
        self.on_loop(lambda f: f.cancel_run(repo, run_id))

    def fail_next(
        self,
        path_substring: str,
        status: int = 502,
        times: int = 1,
        *,
        retry_after: int | None = None,
        message: str | None = None,
    ) -> None:
        self.on_loop(
            lambda f: f.fail_next(
                path_substring, status, times, retry_after=retry_after, message=message
            )
        )

    def delay_next(self, path_substring: str, seconds: float, times: int = 1) -> None:
        self.on_loop(lambda f: f.delay_next(path_substring, seconds, times))

    def clear(self) -> None:
        self.on_loop(lambda f: f.clear())

    def calls(self, path_substring: str | None = None) -> list[Call]:
        return self.on_loop(lambda f: f.calls(path_substring))

    def tokens_issued(self) -> list[Token]:
        return self.on_loop(lambda f: f.tokens_issued())

    def reviews(self, repo: str | None = None, run_id: int | None = None) -> list[JSON]:
        return self.on_loop(lambda f: f.reviews(repo, run_id))

    def reports(self, repo: str | None = None, run_id: int | None = None) -> list[JSON]:
        return self.on_loop(lambda f: f.reports(repo, run_id))

    def rule_state(self, repo: str, run_id: int, environment: str) -> str | None:
        return self.on_loop(lambda f: f.rule_state(repo, run_id, environment))

    def summary(self) -> str:
        return self.on_loop(lambda f: f.summary())
