"""The custom deployment protection rules GitHub is waiting on, and the review endpoint's
rules (REST "Review custom deployment protection rules for a workflow run", and "Creating
custom deployment protection rules"):

- only the app whose rule it is can review it, with an installation token that covers
  the repository; the run must exist in that repository (else 404);
- `environment_name` must name a rule still pending for the run (else 422: a decided rule,
  or a cancelled run, has nothing pending);
- `state` is `approved` or `rejected`; without it the call is a status report, at most 10
  per deployment; a comment is at most 1,024 characters (else 422);
- accepted: 204 No Content.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from bot.fake_github.model import REVIEW_DOCS, GitHubError, Review, Rule, Token, not_found

STATES = ("approved", "rejected")
MAX_REPORTS = 10
MAX_COMMENT = 1024


def nothing_pending(run_id: int) -> GitHubError:
    return GitHubError(
        422,
        f"No pending custom deployment requests in workflow run `{run_id}` to approve or reject",
        REVIEW_DOCS,
    )


def invalid(message: str) -> GitHubError:
    return GitHubError(422, f"Invalid request.\n\n{message}", REVIEW_DOCS)


class Rules:
    """Rules by (repository, run, environment); runs by (repository, run)."""

    def __init__(self, clock: Callable[[], float]) -> None:
        self.clock = clock
        self.rules: dict[tuple[str, int, str], Rule] = {}
        self.runs: dict[tuple[str, int], bool] = {}  # -> cancelled
        self.reviews: list[Review] = []

    def register(self, rule: Rule) -> None:
        key = (rule.repo.lower(), rule.run_id, rule.environment)
        if key in self.rules:
            raise ValueError(f"run {rule.run_id} already waits on {rule.environment}")
        if self.runs.get(key[:2]):
            raise ValueError(f"run {rule.run_id} of {rule.repo} was cancelled")
        self.rules[key] = rule
        self.runs[key[:2]] = False

    def cancel(self, repo: str, run_id: int) -> None:
        run = (repo.lower(), run_id)
        if run not in self.runs:
            raise ValueError(f"no run {run_id} of {repo}")
        self.runs[run] = True
        for key, rule in self.rules.items():
            if key[:2] == run and rule.state == "pending":
                rule.state = "cancelled"

    def find(self, repo: str, run_id: int, environment: str) -> Rule | None:
        return self.rules.get((repo.lower(), run_id, environment))

    def of_run(self, repo: str, run_id: int) -> list[Rule]:
        return [r for k, r in self.rules.items() if k[:2] == (repo.lower(), run_id)]

    def review(self, token: Token, repo: str, run_id: int, body: Any) -> Review:
        """Apply one call of the review endpoint, or raise the refusal GitHub would answer."""
        if not token.covers(repo) or (repo.lower(), run_id) not in self.runs:
            raise not_found(REVIEW_DOCS)
        if not isinstance(body, dict):
            raise invalid('"environment_name" wasn\'t supplied.')
        environment, state, comment = _fields(body)
        rule = self.find(repo, run_id, environment)
        if rule is None or rule.state != "pending" or rule.app_id != token.app_id:
            raise nothing_pending(run_id)
        if state is None:
            if rule.reports >= MAX_REPORTS:
                raise GitHubError(
                    422,
                    f"A deployment can have at most {MAX_REPORTS} status reports; "
                    f"this one has {rule.reports}",
                    REVIEW_DOCS,
                )
            rule.reports += 1
        else:
            rule.state = state
        review = Review(
            repo=rule.repo,
            run_id=run_id,
            environment_name=environment,
            state=state,
            comment=comment,
            token=token.token,
            installation_id=token.installation_id,
            at=self.clock(),
        )
        self.reviews.append(review)
        return review


def _fields(body: dict[str, Any]) -> tuple[str, str | None, str | None]:
    environment, state, comment = (
        body.get("environment_name"),
        body.get("state"),
        body.get("comment"),
    )
    if not isinstance(environment, str) or not environment:
        raise invalid('"environment_name" wasn\'t supplied.')
    if state is not None and state not in STATES:
        raise invalid(f'Invalid property /state: {state!r} is not one of ["approved", "rejected"].')
    if comment is not None and not isinstance(comment, str):
        raise invalid(f"Invalid property /comment: {comment!r} is not of type `string`.")
    if comment is not None and len(comment) > MAX_COMMENT:
        raise invalid(
            f"Invalid property /comment: is longer than {MAX_COMMENT} characters ({len(comment)})."
        )
    if state is None and not comment:
        raise invalid("A status report needs a comment; a decision needs a state.")
    return environment, state, comment
