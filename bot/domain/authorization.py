"""Section 10's record: the deployment window, the team and the rollback plan.

The final approver gives them when signing; a window may also be planned when the
release is opened. Each rule returns the cleaned value or says, field by field, what
must change.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from bot.domain.checklist import AppConfig
from bot.domain.errors import InvalidInput
from bot.domain.forms import SignField
from bot.domain.model import Release, Signature
from bot.domain.signoff import check_text
from bot.domain.text import Code, phrase, stamp

MAX_ROLLBACK_PLAN = 2000
MAX_TEAM = 20

WINDOW_FORMAT = phrase(
    Code("window=START/END"), ", e.g. ", Code("window=2026-12-01T10:00Z/2026-12-01T12:00Z")
)
_USER_ID = re.compile(r"^[UW][A-Z0-9]{1,20}$")


@dataclass(frozen=True)
class DeploymentPlan:
    """What the final approval records (or what its form is prefilled with)."""

    window_start: datetime | None = None
    window_end: datetime | None = None
    team: tuple[str, ...] = ()
    rollback_plan: str | None = None


class PlanProblems(InvalidInput):
    """The plan can't be recorded: form field -> why, every problem at once."""

    def __init__(self, problems: Mapping[str, str]) -> None:
        super().__init__(" ".join(problems.values()))
        self.problems = dict(problems)


def window_problems(start: datetime | None, end: datetime | None, now: datetime) -> dict[str, str]:
    """A window must have both ends, end after it starts, and not be over already."""
    problems: dict[str, str] = {}
    if start is None:
        problems[SignField.WINDOW_START] = "Choose when the deployment window starts."
    if end is None:
        problems[SignField.WINDOW_END] = "Choose when the deployment window ends."
    if start is None or end is None:
        return problems
    if end <= start:
        problems[SignField.WINDOW_END] = "The window must end after it starts."
    elif end <= now:
        problems[SignField.WINDOW_END] = (
            f"This window ended {stamp(end)}, in the past; choose one still to come."
        )
    return problems


def check_plan(plan: DeploymentPlan, now: datetime) -> DeploymentPlan:
    """The record the final approver gives, cleaned; raises PlanProblems."""
    problems = window_problems(plan.window_start, plan.window_end, now)
    team = tuple(dict.fromkeys(user for user in plan.team if user))
    if not team:
        problems[SignField.TEAM] = "Name at least one person on the deployment team."
    elif len(team) > MAX_TEAM:
        problems[SignField.TEAM] = f"The deployment team is at most {MAX_TEAM} people."
    elif not all(_USER_ID.match(user) for user in team):
        problems[SignField.TEAM] = "Pick the deployment team's members from Slack's list of people."
    rollback: str | None = None
    try:
        rollback = check_text(plan.rollback_plan, "rollback plan", MAX_ROLLBACK_PLAN, True)
    except InvalidInput as exc:
        problems[SignField.ROLLBACK_PLAN] = f"{exc} Write the steps, or link the runbook."
    if problems:
        raise PlanProblems(problems)
    return DeploymentPlan(plan.window_start, plan.window_end, team, rollback)


def parse_window(raw: str, now: datetime) -> tuple[datetime, datetime]:
    """`START/END` in ISO 8601 with a time zone (`Z` or an offset), as UTC; InvalidInput."""

    def fail(*why: str | Code) -> InvalidInput:
        return InvalidInput(
            "I couldn't use ",
            Code(f"window={raw}"),
            ": ",
            *why,
            " Write the window as ",
            WINDOW_FORMAT,
            " (ISO 8601 times with ",
            Code("Z"),
            " or an offset).",
        )

    parts = raw.split("/")
    if len(parts) != 2 or not all(parts):
        raise fail("it needs a start and an end separated by ", Code("/"), ".")
    ends: list[datetime] = []
    for part in parts:
        try:
            at = datetime.fromisoformat(part)
        except ValueError:
            raise fail(Code(part), " is not an ISO 8601 date and time.") from None
        if at.tzinfo is None or at.utcoffset() is None:
            raise fail(Code(part), " has no time zone, so I can't tell when it is.")
        ends.append(at.astimezone(UTC))
    problems = window_problems(ends[0], ends[1], now)
    if problems:
        said = " ".join(problems.values())
        raise fail(said[:1].lower() + said[1:])  # mid-sentence
    return ends[0], ends[1]


def draft_plan(
    app: AppConfig,
    release: Release,
    signatures: Sequence[Signature],
    previous_rollback_plan: str | None,
) -> DeploymentPlan:
    """What the final approver's form starts with: the release's own record where it has
    one; else the team is whoever signed a responder role (e.g. the DevOps Lead) and the
    rollback plan is the one last recorded in this channel."""
    responders = set(app.responder_roles)
    team = release.deploy_team or tuple(
        dict.fromkeys(s.user_id for s in signatures if s.role_id in responders)
    )
    return DeploymentPlan(
        release.window_start,
        release.window_end,
        team,
        release.rollback_plan or previous_rollback_plan,
    )
