"""What the fake GitHub remembers: apps, installations, the tokens it issued, the protection
rules a test asked for, every call and the reviews it accepted."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

JSON = dict[str, Any]

DOCS = "https://docs.github.com/rest"
TOKEN_DOCS = f"{DOCS}/apps/apps#create-an-installation-access-token-for-an-app"
REVIEW_DOCS = (
    f"{DOCS}/actions/workflow-runs#review-custom-deployment-protection-rules-for-a-workflow-run"
)
DEFAULT_PERMISSIONS = {"actions": "read", "deployments": "write", "metadata": "read"}


class GitHubError(Exception):
    """A refusal, answered as GitHub answers one: `{"message", "documentation_url"}`."""

    def __init__(self, status: int, message: str, documentation_url: str = DOCS) -> None:
        super().__init__(f"{status} {message}")
        self.status, self.message, self.documentation_url = status, message, documentation_url

    def body(self) -> JSON:
        return {"message": self.message, "documentation_url": self.documentation_url}


def not_found(documentation_url: str = DOCS) -> GitHubError:
    return GitHubError(404, "Not Found", documentation_url)


def bad_credentials() -> GitHubError:
    return GitHubError(401, "Bad credentials")


@dataclass
class App:
    """A registered GitHub App: its id, its client id and the public half of its key."""

    app_id: int
    client_id: str
    public_key_pem: str


@dataclass
class Installation:
    installation_id: int
    app_id: int
    repositories: list[str]  # "owner/name", as given
    permissions: dict[str, str] = field(default_factory=lambda: dict(DEFAULT_PERMISSIONS))

    def includes(self, repo: str) -> bool:
        return repo.lower() in {r.lower() for r in self.repositories}


@dataclass(frozen=True)
class Token:
    """An installation access token this fake issued."""

    token: str
    installation_id: int
    app_id: int
    repositories: tuple[str, ...]
    permissions: dict[str, str]
    issued_at: float
    expires_at: float

    def covers(self, repo: str) -> bool:
        return repo.lower() in {r.lower() for r in self.repositories}


@dataclass
class Rule:
    """A custom deployment protection rule GitHub is waiting on for one run and environment.

    `state` is "pending" until a decision is accepted ("approved" / "rejected"), or
    "cancelled" when the test cancels the run."""

    repo: str
    run_id: int
    environment: str
    sha: str
    ref: str
    installation_id: int
    app_id: int
    deployment_id: int | None
    state: str = "pending"
    reports: int = 0


@dataclass(frozen=True)
class Review:
    """One call to the review endpoint that GitHub accepted: a decision (`state` set) or a
    progress report (`state` None)."""

    repo: str
    run_id: int
    environment_name: str
    state: str | None
    comment: str | None
    token: str
    installation_id: int
    at: float

    def as_dict(self) -> JSON:
        return {
            "repo": self.repo,
            "run_id": self.run_id,
            "environment_name": self.environment_name,
            "state": self.state,
            "comment": self.comment,
            "token": self.token,
            "installation_id": self.installation_id,
            "at": self.at,
        }


@dataclass(frozen=True)
class Call:
    """One request made to the fake, with what it was answered."""

    method: str
    path: str
    headers: dict[str, str]
    body: Any
    at: float
    status: int
    response: Any = None
    faulted: bool = False
    delayed: float = 0.0

    @property
    def authorization(self) -> str | None:
        for name, value in self.headers.items():
            if name.lower() == "authorization":
                return value
        return None

    def describe(self) -> str:
        bits = [self.method, self.path, str(self.status)]
        if isinstance(self.body, dict):
            bits += [
                f"{k}={self.body[k]!r}" for k in ("environment_name", "state") if k in self.body
            ]
        if isinstance(self.response, dict) and self.response.get("message"):
            bits.append(f"message={self.response['message']!r}")
        if self.faulted:
            bits.append("(faulted)")
        return " ".join(bits)
