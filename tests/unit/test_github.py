"""What a waiting GitHub Actions job is answered, the webhook's signature, the manifest."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from click.testing import CliRunner
from pydantic import ValidationError

from bot.cli import main as cli
from bot.domain.github import (
    FROZEN,
    Gate,
    GitHubSettings,
    Verdict,
    comment,
    decide,
    event_fields,
)
from bot.domain.model import ReleaseState
from bot.fake_github.payloads import sign
from bot.web.github import signed

T0 = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)
DAY = timedelta(days=1)


def gate(**changed: object) -> Gate:
    fields: dict[str, object] = {
        "id": 1,
        "release_id": 1,
        "repository": "acme/lumines",
        "environment": "production",
        "run_id": 5,
        "run_url": "https://github.com/acme/lumines/actions/runs/5",
        "requested_at": T0,
    }
    return Gate(**{**fields, **changed})  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("state", "verdict"),
    [
        (ReleaseState.APPROVED, Verdict.APPROVED),
        (ReleaseState.DEPLOYED, Verdict.APPROVED),
        (ReleaseState.CANCELLED, Verdict.REJECTED),
    ],
)
def test_the_answer_follows_the_release(state: ReleaseState, verdict: Verdict) -> None:
    decided = decide(state, gate(), T0, 7 * DAY)
    assert decided is not None and decided.verdict is verdict


def test_an_unapproved_release_is_rejected_past_the_timeout_and_waits_before_it() -> None:
    assert decide(ReleaseState.OPEN, gate(), T0 + 6 * DAY, 7 * DAY) is None
    late = decide(ReleaseState.OPEN, gate(), T0 + 7 * DAY, 7 * DAY)
    assert late is not None and late.verdict is Verdict.REJECTED and "7d" in late.reason


def test_a_blocked_release_is_reported_once_per_state_and_at_most_ten_times() -> None:
    first = decide(ReleaseState.BLOCKED, gate(), T0, 7 * DAY)
    assert first is not None and first.verdict is None and first.reason == "blocked"
    assert decide(ReleaseState.BLOCKED, gate(reported="blocked"), T0, 7 * DAY) is None
    assert decide(ReleaseState.SUSPENDED, gate(reported="blocked", reports=10), T0, DAY) is None
    answered = gate(verdict=Verdict.APPROVED)
    assert decide(ReleaseState.CANCELLED, answered, T0, DAY) is None  # answered once


def test_an_approved_release_a_freeze_holds_is_reported_not_approved() -> None:
    held = decide(ReleaseState.APPROVED, gate(), T0, 7 * DAY, frozen=True)
    assert held is not None and held.verdict is None and held.reason == FROZEN
    assert decide(ReleaseState.APPROVED, gate(reported=FROZEN), T0, DAY, frozen=True) is None
    late = decide(ReleaseState.APPROVED, gate(reported=FROZEN), T0 + DAY, DAY, frozen=True)
    assert late is not None and late.verdict is Verdict.REJECTED
    assert late.reason == "held by a change freeze past 1d"
    deployed = decide(ReleaseState.DEPLOYED, gate(), T0, DAY, frozen=True)
    assert deployed is not None and deployed.verdict is Verdict.APPROVED  # a freeze: too late


def test_comments_fit_githubs_limit() -> None:
    assert len(comment("x" * 5000)) == 1024 and comment("ok") == "ok"


def test_settings_refuse_what_github_would() -> None:
    with pytest.raises(ValidationError, match="owner/name"):
        GitHubSettings(repositories=["lumines"], environments=["production"])
    with pytest.raises(ValidationError, match="30d"):
        GitHubSettings(repositories=["a/b"], environments=["p"], timeout=timedelta(days=31))
    assert GitHubSettings(repositories=["Acme/Lumines"], environments=["p"]).gates(
        "acme/lumines", "p"
    )


def test_a_request_without_its_fields_is_not_one() -> None:
    payload = {
        "repository": {"full_name": "acme/lumines"},
        "environment": "production",
        "sha": "a1b2c3d",
        "deployment_callback_url": "https://api.github.com/repos/acme/lumines/actions/runs/9/"
        "deployment_protection_rule",
        "installation": {"id": 3},
    }
    assert event_fields(payload) == ("acme/lumines", "production", "a1b2c3d", 9, 3)
    assert event_fields({**payload, "sha": "zz"}) is None
    assert event_fields({**payload, "deployment_callback_url": "https://x/y"}) is None


def test_the_webhook_signature_is_githubs() -> None:
    body = b'{"zen": "Keep it logically awesome."}'
    assert signed("s3cret", body, sign("s3cret", body))
    assert not signed("s3cret", body, sign("other", body))
    assert not signed("s3cret", body, "")


def test_manifest_asks_for_what_the_rule_needs() -> None:
    out = CliRunner().invoke(cli, ["manifest", "--github", "--url", "https://r.example.com/"])
    assert out.exit_code == 0, out.output
    document = json.loads(out.stdout)
    assert document["hook_attributes"]["url"] == "https://r.example.com/github/events"
    assert document["default_permissions"] == {"actions": "read", "deployments": "write"}
    assert set(document["default_events"]) == {"deployment_protection_rule", "deployment_status"}
