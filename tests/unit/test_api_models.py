"""The pipeline API's request bodies, and `readiness gate --wait`'s polling, without a server."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from bot.cli.gate import Answer, GateProblem, Unreachable, gate_url, wait
from bot.web.schemas import MAX_VALUES, DeployedIn, ResultIn, validation_problems

ITEMS = {"unit_ci_passing", "health_app"}


def result(**body: Any) -> ResultIn:
    return ResultIn.model_validate(
        {"item": "unit_ci_passing", "status": "pass", **body}, context={"items": ITEMS}
    )


def problems(**body: Any) -> list[str]:
    with pytest.raises(ValidationError) as caught:
        result(**body)
    return validation_problems(caught.value)


def test_a_full_result_is_recorded_with_its_url() -> None:
    pushed = result(
        status="fail",
        reason="  3 tests\nfailed  ",
        values={"failed": 3},
        url="https://ci.example.com/run/123",
    )
    assert pushed.recorded_reason() == "3 tests failed"
    assert pushed.recorded_values() == {"failed": 3, "url": "https://ci.example.com/run/123"}


def test_a_bare_result_gets_a_reason() -> None:
    pushed = result(status="error")
    assert pushed.recorded_reason() == "error (reported by CI)"
    assert pushed.recorded_values() == {}


def test_an_unknown_item_is_named() -> None:
    assert problems(item="nope") == ["item: no checklist item 'nope'"]


@pytest.mark.parametrize("status", ["green", "PASS", "pending", "", None, 1])
def test_status_is_pass_fail_or_error(status: Any) -> None:
    assert problems(status=status)[0].startswith("status: ")


def test_reason_is_at_most_500_characters() -> None:
    assert result(reason="x" * 500).reason == "x" * 500
    assert problems(reason="x" * 501)[0].startswith("reason: ")


def test_values_are_at_most_10_kb_of_json() -> None:
    result(values={"log": "x" * (MAX_VALUES - 20)})
    said = problems(values={"log": "x" * MAX_VALUES})
    assert said[0].startswith("values: values are") and "at most 10240" in said[0]
    assert problems(values=["not", "a", "mapping"])[0].startswith("values: ")


@pytest.mark.parametrize(
    "url", ["ftp://ci/run/1", "javascript:alert(1)", "file:///etc/passwd", "ci/run/1", ""]
)
def test_url_is_http_or_https(url: str) -> None:
    assert problems(url=url)[0].startswith("url: ")


def test_unknown_fields_and_missing_ones_are_named() -> None:
    assert problems(colour="red") == ["colour: unknown field"]
    with pytest.raises(ValidationError) as caught:
        ResultIn.model_validate({"status": "pass"})
    assert validation_problems(caught.value) == ["item: Field required"]


def test_deployed_by_names_a_pipeline() -> None:
    assert DeployedIn.model_validate({}).by == "api"
    assert DeployedIn.model_validate({"by": " ci-pipeline "}).by == "ci-pipeline"
    for bad in ("<!channel>", "", "x" * 41, "<@U123>"):
        with pytest.raises(ValidationError):
            DeployedIn.model_validate({"by": bad})


def test_gate_url_encodes_the_name() -> None:
    assert (
        gate_url("http://bot:3000/", "LUMINES 1.0.0/web#2")
        == "http://bot:3000/api/releases/LUMINES%201.0.0%2Fweb%232/gate"
    )
    with pytest.raises(GateProblem):
        gate_url("bot:3000", "x")


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


def test_wait_asks_until_approved_and_says_only_what_changed() -> None:
    answers = [
        Answer(False, "open", ("waiting for Product Owner",)),
        Answer(False, "open", ("waiting for Product Owner",)),
        Answer(False, "open", ("no final approval by CTO",)),
        Answer(True, "approved"),
    ]
    clock, said = Clock(), []
    got = wait(lambda: answers.pop(0), 60, 10, said.append, clock, clock.sleep)
    assert got.approved and clock.now == 30
    assert said == [
        "[0s of 1m] not approved yet (open): waiting for Product Owner",
        "[10s of 1m] still waiting (open)",
        "[20s of 1m] not approved yet (open): no final approval by CTO",
    ]


def test_wait_gives_up_at_the_timeout_with_the_last_answer() -> None:
    clock, said = Clock(), []
    got = wait(
        lambda: Answer(False, "suspended", ("suspended: …",)),
        25,
        10,
        said.append,
        clock,
        clock.sleep,
    )
    assert not got.approved and got.reasons == ("suspended: …",)
    assert clock.now == 25 and len(said) == 4  # at 0, 10, 20 and the deadline


def test_wait_rides_out_an_unreachable_bot_but_not_a_wrong_token() -> None:
    clock = Clock()
    calls = iter([Unreachable("cannot reach"), Answer(True, "approved")])

    def ask() -> Answer:
        got = next(calls)
        if isinstance(got, Exception):
            raise got
        return got

    assert wait(ask, 60, 5, lambda _: None, clock, clock.sleep).approved

    def down() -> Answer:
        raise Unreachable("cannot reach")

    with pytest.raises(Unreachable):
        wait(down, 12, 5, lambda _: None, clock, clock.sleep)

    def refused() -> Answer:
        raise GateProblem("refused the API token (401)")

    before = clock.now
    with pytest.raises(GateProblem):
        wait(refused, 60, 5, lambda _: None, clock, clock.sleep)
    assert clock.now == before
