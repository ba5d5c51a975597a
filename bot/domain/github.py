"""GitHub Actions waiting on a release: a custom deployment protection rule.

A workflow job that deploys to a protected environment waits until the app answers for
it (approved or rejected), with progress reports in between. What the answer is follows
from the release's state; this module says which, and in what words.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import Enum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from bot.domain.model import ReleaseState
from checks.durations import Duration, format_duration

REPOSITORY = re.compile(r"^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+$")
MAX_COMMENT = 1024  # GitHub's limit on a review's comment
MAX_PROGRESS = 10  # progress reports GitHub takes per deployment
GITHUB_LIMIT = timedelta(days=30)  # GitHub fails the job by itself after this


class GitHubSettings(BaseModel):
    """app.yaml `github:` (per product): the repositories and environments it gates."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    repositories: list[str] = Field(min_length=1)
    environments: list[str] = Field(min_length=1)
    timeout: Duration = timedelta(days=7)

    @field_validator("repositories")
    @classmethod
    def _owner_name(cls, value: list[str]) -> list[str]:
        for repository in value:
            if not REPOSITORY.match(repository):
                raise ValueError(f"{repository!r} is not owner/name")
        return [r.lower() for r in value]

    @field_validator("timeout")
    @classmethod
    def _within_github(cls, value: timedelta) -> timedelta:
        if not timedelta(minutes=1) <= value < GITHUB_LIMIT:
            raise ValueError("must be at least 1m and under 30d (GitHub fails the job then)")
        return value

    def gates(self, repository: str, environment: str) -> bool:
        return repository.lower() in self.repositories and environment in self.environments


APPROVED = frozenset(
    {ReleaseState.APPROVED, ReleaseState.DEPLOYED, ReleaseState.MONITORING, ReleaseState.DONE}
)
FROZEN = "change_freeze"  # the progress report while a change freeze holds an approved release


class Verdict(Enum):
    APPROVED = "approved"
    REJECTED = "rejected"


@dataclass(frozen=True)
class Gate:
    """One waiting job: a (run, environment) of a repository, and what was answered."""

    id: int
    release_id: int
    repository: str
    environment: str
    run_id: int
    run_url: str
    requested_at: datetime
    verdict: Verdict | None = None  # decided (sent or still being sent)
    reason: str | None = None  # why: what the comment says
    sent_at: datetime | None = None
    refused: str | None = None  # GitHub refused the answer for good: what it said
    reported: str | None = None  # the release state a progress report last told
    reports: int = 0
    attempts: int = 0  # calls made to send what is due

    @property
    def waiting(self) -> bool:
        return self.verdict is None


@dataclass(frozen=True)
class Decision:
    verdict: Verdict | None  # None: a progress report, the job keeps waiting
    reason: str


def decide(
    state: ReleaseState, gate: Gate, now: datetime, timeout: timedelta, frozen: bool = False
) -> Decision | None:
    """What to answer a waiting job now, given its release's state (None: nothing new).
    FROZEN: a change freeze holds the release now (it has no exception for it): approved
    but not yet deployed, it is not approved to GitHub until the freeze ends."""
    if not gate.waiting:
        return None
    held = frozen and state is ReleaseState.APPROVED  # once deployed, a freeze changes nothing
    if state in APPROVED and not held:
        return Decision(Verdict.APPROVED, "approved")
    if state is ReleaseState.CANCELLED:
        return Decision(Verdict.REJECTED, "cancelled")
    if now - gate.requested_at >= timeout:
        said = "held by a change freeze past" if held else "not approved within"
        return Decision(Verdict.REJECTED, f"{said} {format_duration(timeout)}")
    if held:
        if gate.reported != FROZEN and gate.reports < MAX_PROGRESS:
            return Decision(None, FROZEN)
        return None
    if state in (ReleaseState.BLOCKED, ReleaseState.SUSPENDED) and gate.reported != state.value:
        if gate.reports < MAX_PROGRESS:
            return Decision(None, state.value)
    return None


def comment(text: str) -> str:
    """TEXT as GitHub takes a comment: at most 1,024 characters, an ellipsis if cut."""
    return text if len(text) <= MAX_COMMENT else text[: MAX_COMMENT - 1] + "…"


def event_fields(payload: dict[str, Any]) -> tuple[str, str, str, int, int] | None:
    """A `deployment_protection_rule` request's (repository, environment, sha, run id,
    installation id); None if the payload lacks one of them."""
    try:
        repository = str(payload["repository"]["full_name"])
        environment = str(payload["environment"])
        sha = str(payload["sha"])
        callback = str(payload["deployment_callback_url"])
        installation = int(payload["installation"]["id"])
    except (KeyError, TypeError, ValueError):
        return None
    found = re.search(r"/actions/runs/(\d+)/deployment_protection_rule$", callback)
    if found is None or not re.fullmatch(r"[0-9a-fA-F]{7,64}", sha):
        return None
    return repository, environment, sha.lower(), int(found.group(1)), installation
