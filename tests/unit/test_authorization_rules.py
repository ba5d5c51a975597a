"""Section 10's rules: the window, the team, the rollback plan; and who is still pending."""

from __future__ import annotations

import textwrap
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from bot.config import parse_app_config
from bot.domain.authorization import (
    MAX_ROLLBACK_PLAN,
    MAX_TEAM,
    DeploymentPlan,
    PlanProblems,
    check_plan,
    draft_plan,
    parse_window,
    window_problems,
)
from bot.domain.checklist import AppConfig
from bot.domain.errors import InvalidInput
from bot.domain.forms import SignField
from bot.domain.model import Release, ReleaseState, Signature
from bot.domain.reminders import pending_roles
from bot.domain.text import Code
from checks import default_registry

WINDOW_START, WINDOW_END = SignField.WINDOW_START, SignField.WINDOW_END
TEAM, ROLLBACK_PLAN = SignField.TEAM, SignField.ROLLBACK_PLAN
NOW = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)
HOUR = timedelta(hours=1)
APP: AppConfig = parse_app_config(
    textwrap.dedent("""
    product: P
    roles:
      eng: {title: Engineering Lead, members: [UENG, UENG2]}
      sec: {title: Security Lead, members: [USEC, UENG], usergroups: [SSEC]}
      devops_lead: {title: DevOps Lead, members: [UOPS, UOPS2], min_signers: 2}
      cto: {title: CTO, members: [UCTO, UREL], final: true}
    sections:
      - id: infra
        title: Infrastructure
        items:
          - {id: cluster, title: Cluster}
    """),
    {},
    default_registry(),
)


def release(**fields: object) -> Release:
    return replace(Release(3, "R 1", "C1", ReleaseState.OPEN, "UREL", NOW), **fields)  # type: ignore[arg-type]


def good(**fields: object) -> DeploymentPlan:
    plan = DeploymentPlan(NOW + HOUR, NOW + 3 * HOUR, ("UOPS",), "helm rollback lumines 41")
    return replace(plan, **fields)  # type: ignore[arg-type]


def problems(plan: DeploymentPlan) -> dict[str, str]:
    with pytest.raises(PlanProblems) as refused:
        check_plan(plan, NOW)
    return refused.value.problems


def test_a_good_plan_is_cleaned_and_kept() -> None:
    checked = check_plan(good(team=("UOPS", "UCTO", "UOPS"), rollback_plan="  run it \n"), NOW)
    assert checked == DeploymentPlan(NOW + HOUR, NOW + 3 * HOUR, ("UOPS", "UCTO"), "run it")


def test_a_window_already_under_way_is_fine() -> None:
    assert check_plan(good(window_start=NOW - HOUR), NOW).window_start == NOW - HOUR


def test_the_window_must_end_after_it_starts() -> None:
    assert problems(good(window_end=NOW + HOUR)) == {
        WINDOW_END: "The window must end after it starts."
    }
    assert WINDOW_END in problems(good(window_end=NOW))


def test_a_window_entirely_in_the_past_is_refused() -> None:
    found = problems(good(window_start=NOW - 3 * HOUR, window_end=NOW - HOUR))
    assert "in the past" in found[WINDOW_END] and "2026-11-28 11:00 UTC" in found[WINDOW_END]
    assert WINDOW_END in problems(good(window_start=NOW - 3 * HOUR, window_end=NOW))


def test_every_missing_field_is_reported_at_once() -> None:
    found = problems(DeploymentPlan())
    assert set(found) == {WINDOW_START, WINDOW_END, TEAM, ROLLBACK_PLAN}
    assert "at least one person" in found[TEAM]
    assert "Please give a rollback plan" in found[ROLLBACK_PLAN]
    assert problems(good(rollback_plan="   ")).keys() == {ROLLBACK_PLAN}


def test_team_and_plan_are_bounded() -> None:
    many = tuple(f"U{i:04d}" for i in range(MAX_TEAM + 1))
    assert f"at most {MAX_TEAM}" in problems(good(team=many))[TEAM]
    assert TEAM in problems(good(team=("<!channel>",)))
    long = problems(good(rollback_plan="x" * (MAX_ROLLBACK_PLAN + 1)))[ROLLBACK_PLAN]
    assert "too long" in long
    assert check_plan(good(rollback_plan="x" * MAX_ROLLBACK_PLAN), NOW).rollback_plan


def test_window_problems_name_the_missing_end() -> None:
    assert window_problems(None, NOW + HOUR, NOW).keys() == {WINDOW_START}
    assert window_problems(NOW, NOW + HOUR, NOW) == {}


@pytest.mark.parametrize(
    "raw",
    [
        "2026-12-01T10:00Z/2026-12-01T12:00Z",
        "2026-12-01T11:00+01:00/2026-12-01T13:00+01:00",
        "2026-12-01T10:00:00+00:00/2026-12-01T12:00:00Z",
    ],
)
def test_planned_window_reads_iso_times_with_a_zone(raw: str) -> None:
    start, end = parse_window(raw, NOW)
    assert start == datetime(2026, 12, 1, 10, 0, tzinfo=UTC)
    assert end == datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
    assert start.tzinfo == UTC and end.tzinfo == UTC


@pytest.mark.parametrize(
    ("raw", "why"),
    [
        ("2026-12-01T10:00Z", "a start and an end"),
        ("2026-12-01T10:00Z/", "a start and an end"),
        ("tomorrow/later", "tomorrow is not an ISO 8601"),
        ("2026-12-01T10:00/2026-12-01T12:00", "has no time zone"),
        ("2026-12-01T12:00Z/2026-12-01T10:00Z", "end after it starts"),
        ("2026-11-01T10:00Z/2026-11-01T12:00Z", "in the past"),
    ],
)
def test_a_bad_planned_window_explains_the_format(raw: str, why: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        parse_window(raw, NOW)
    assert why in str(refused.value)  # plain words; Slack shows the code parts as code
    assert "window=2026-12-01T10:00Z/2026-12-01T12:00Z" in str(refused.value)
    assert Code(f"window={raw}") in refused.value.phrase.parts


def test_the_form_is_prefilled_from_the_release() -> None:
    signed = [Signature(1, "eng", "UENG", NOW), Signature(2, "devops_lead", "UOPS", NOW)]
    draft = draft_plan(APP, release(), signed, "previous plan")
    assert draft == DeploymentPlan(None, None, ("UOPS",), "previous plan")
    planned = release(
        window_start=NOW + HOUR,
        window_end=NOW + 2 * HOUR,
        deploy_team=("UOPS2",),
        rollback_plan="own plan",
    )
    assert draft_plan(APP, planned, signed, "previous plan") == DeploymentPlan(
        NOW + HOUR, NOW + 2 * HOUR, ("UOPS2",), "own plan"
    )
    assert draft_plan(APP, release(), [], None) == DeploymentPlan()


def test_pending_roles_list_who_may_still_sign() -> None:
    signed = [Signature(1, "eng", "UENG", NOW), Signature(2, "devops_lead", "UOPS", NOW)]
    pending = {p.role_id: p for p in pending_roles(APP, release(), signed)}
    assert list(pending) == ["sec", "devops_lead", "cto"]
    assert pending["sec"].members == ("USEC",)  # UENG holds Engineering Lead already
    assert pending["sec"].usergroups == ("SSEC",)
    assert pending["devops_lead"].missing == 1 and pending["devops_lead"].members == ("UOPS2",)
    assert pending["cto"].waiting and not pending["cto"].can_act
    assert pending["cto"].members == ("UCTO",)  # UREL opened the release


def test_the_final_role_can_act_once_the_others_signed() -> None:
    signed = [
        Signature(1, "eng", "UENG", NOW),
        Signature(2, "sec", "USEC", NOW),
        Signature(3, "devops_lead", "UOPS", NOW),
        Signature(4, "devops_lead", "UOPS2", NOW),
    ]
    (final,) = pending_roles(APP, release(), signed)
    assert final.role_id == "cto" and final.can_act
