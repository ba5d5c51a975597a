"""Forged, replayed and tampered requests: each is refused and writes nothing.

Every forged request below carries `/readiness new …`: had it got in, it would have opened a
release and answered on its response_url, so "no row and no answer" is what it looks like
when it didn't.
"""

from __future__ import annotations

import json
import time
from typing import Any

import httpx
import pytest

from bot.fake_slack import payloads
from tests.reliability.helpers import (
    live_signatures,
    open_release,
    post,
    query,
    release_id,
    rows,
    sign_values,
    signed,
    submission,
)
from tests.scenario.conftest import Slack
from tests.scenario.harness import CHANNEL, Bot

CHECKS = False  # every item manual: releases open without a check run
WINDOW = 300  # seconds either side of now that Slack's signatures are valid


def command_body(slack: Slack, text: str, user: str = "UREL") -> bytes:
    """A slash command as Slack sends it, with a live response_url the bot could answer on."""
    return payloads.slash_command(
        user,
        text,
        channel_id=CHANNEL,
        response_url=slack.fake.new_response_url(CHANNEL, user),
        team_id=slack.driver.team_id,
    )


def without(headers: dict[str, str], name: str) -> dict[str, str]:
    return {k: v for k, v in headers.items() if k != name}


def forgeries(body: bytes) -> dict[str, tuple[bytes, dict[str, Any]]]:
    """Each forgery of a correctly signed BODY: its name, the body and headers sent."""
    now = int(time.time())
    good = signed(body, now)
    ts, sig = "X-Slack-Request-Timestamp", "X-Slack-Signature"
    other = b"command=%2Freadiness&text=list&user_id=UREL&channel_id=" + CHANNEL.encode()
    return {
        "non-numeric timestamp": (body, {**good, ts: "soon"}),
        "timestamp with a plus sign": (body, {**good, ts: f"+{now}"}),
        "timestamp as a float": (body, {**good, ts: f"{now}.0"}),
        # str.isdigit() is true for it and int() refuses it
        "superscript-digit timestamp": (body, {**good, ts: f"{now}\u00b2".encode()}),
        "empty timestamp": (body, {**good, ts: ""}),
        "missing timestamp header": (body, without(good, ts)),
        "missing signature header": (body, without(good, sig)),
        "no Slack headers at all": (body, {"Content-Type": payloads.FORM}),
        "stale timestamp (6 min old)": (body, signed(body, now - WINDOW - 60)),
        "future timestamp (6 min ahead)": (body, signed(body, now + WINDOW + 60)),
        "wrong signature": (body, {**good, sig: "v0=" + "0" * 64}),
        "signature without v0=": (body, {**good, sig: good[sig].removeprefix("v0=")}),
        "signature by another secret": (
            body,
            {"Content-Type": payloads.FORM, **payloads.sign("not-the-secret", body, now)},
        ),
        "right signature for a different body": (body, {**good, sig: signed(other, now)[sig]}),
        "right signature, a byte appended to the body": (body + b"&", good),
        "an hour-old signature under a fresh timestamp": (
            body,
            {**good, sig: signed(body, now - 3600)[sig]},
        ),
    }


VARIANTS = list(forgeries(b""))


def answers_since(slack: Slack, before: int) -> list[str]:
    return [r.text for r in slack.fake.responses()[before:]]


@pytest.mark.parametrize("variant", VARIANTS)
def test_a_forged_request_gets_401_and_writes_nothing(slack: Slack, bot: Bot, variant: str) -> None:
    before, answered = rows(bot), len(slack.fake.responses())
    body, headers = forgeries(command_body(slack, f"new FORGED {variant}"))[variant]
    response = post(bot, body, headers)
    assert response.status_code == 401, (response.status_code, response.text)
    assert "replayed" not in response.text
    assert rows(bot) == before
    # Still serving: a genuine command is answered, and it is the only answer since.
    assert "Open releases" in slack.command("UREL", "list")
    assert len(answers_since(slack, answered)) == 1
    assert rows(bot) == before
    assert "FORGED" not in bot.log()


def test_a_replayed_request_is_refused_and_counted_once(slack: Slack, bot: Bot, name: str) -> None:
    body = command_body(slack, f"new {name} ref=replay1")
    headers = signed(body)
    answered = len(slack.fake.responses())
    first = post(bot, body, headers)
    assert first.status_code == 200, first.text
    slack.fake.wait_for(lambda f: len(f.responses()) > answered or None, timeout=15)
    slack.checks_done(name)
    slack.wait_card(name, "Readiness")
    before = rows(bot)
    for _ in range(3):  # byte for byte, within the five minutes the signature is valid
        again = post(bot, body, headers)
        assert again.status_code == 401, again.text
        assert "replayed" in again.text
    # Headers aren't signed: dressed as an Events API retry, or as JSON (events are
    # de-duplicated by event_id, not by the replay guard), it still doesn't get in.
    retry = post(bot, body, {**headers, "X-Slack-Retry-Num": "1", "X-Slack-Retry-Reason": "x"})
    assert retry.status_code == 401 and "replayed" in retry.text
    as_json = post(bot, body, {**headers, "Content-Type": payloads.JSON_TYPE})
    assert 400 <= as_json.status_code < 500, (as_json.status_code, as_json.text)
    assert rows(bot) == before
    assert query_names(bot, name) == 1
    assert "Open releases" in slack.command("UREL", "list")
    said = answers_since(slack, answered)
    assert len(said) == 2 and f"Opened *{name}*" in said[0], said  # new, then list
    assert "refused a replayed request" in bot.log()


def query_names(bot: Bot, name: str) -> int:
    return int(query(bot, "SELECT count(*) FROM releases WHERE name = :name", name=name)[0][0])


# --- bodies the bot can't read --------------------------------------------------------


def test_an_oversized_body_gets_413(slack: Slack, bot: Bot) -> None:
    before = rows(bot)
    text = "status " + "x" * (1024 * 1024)
    body = command_body(slack, text)
    assert len(body) > 1024 * 1024
    response = post(bot, body, signed(body))
    assert response.status_code == 413, response.text
    assert rows(bot) == before
    assert httpx.get(f"{bot.url}/healthz").status_code == 200


def test_a_body_that_is_not_utf8_gets_400(slack: Slack, bot: Bot) -> None:
    before = rows(bot)
    for body in (b"\xff\xfe\xfd", b"text=\xc3\x28&user_id=UREL", b"payload=" + b"\x80" * 50):
        response = post(bot, body, signed(body))
        assert response.status_code == 400, (body, response.status_code, response.text)
        assert "UTF-8" in response.text
    assert rows(bot) == before


# --- what a button or form carries is not trusted -------------------------------------


def edited_card(slack: Slack, name: str, action_id: str, value: str) -> dict[str, object]:
    """The card as a client that edited one button's value would send it back."""
    message = slack.card(name).as_slack()
    message["channel"] = CHANNEL
    for block in message["blocks"]:
        for element in block.get("elements", []):
            if element.get("action_id") == action_id:
                element["value"] = value
    return message


def ref(release: int, role: str) -> str:
    return json.dumps({"r": release, "role": role}, separators=(",", ":"))


@pytest.fixture(scope="module")
def releases(fake: object, bot: Bot) -> dict[str, int]:
    """Two open releases and a cancelled one, shared by the tampering tests."""
    with_slack = Slack(fake, bot)  # type: ignore[arg-type]
    try:
        opened = {
            label: open_release(with_slack, f"TAMPER {label}", ref=label)
            for label in ("mine", "other", "gone")
        }
        said = with_slack.answer(
            "UREL", lambda: with_slack.driver.command("UREL", "cancel TAMPER gone", CHANNEL)
        )
        assert "Cancelled" in said
        with_slack.wait_card("TAMPER gone", "cancelled")
    finally:
        with_slack.driver.close()
    return opened


@pytest.mark.parametrize(
    ("value", "refusal"),
    [
        ("role:cto", "not an approver for CTO/Engineering Manager"),
        ("role:devops_lead", "not an approver for DevOps Lead"),
        ("role:no_such_role", "no role 'no_such_role'"),
        ("release:gone", "it was cancelled"),
        ("release:missing", "That release no longer exists"),
    ],
)
def test_an_edited_sign_button_is_rechecked_against_the_database(
    slack: Slack, bot: Bot, releases: dict[str, int], value: str, refusal: str
) -> None:
    """UENG clicks `Sign as Engineering Lead` on `TAMPER mine`, its value edited to name a
    role UENG doesn't hold, a cancelled release, or one that doesn't exist."""
    kind, what = value.split(":")
    target = {"gone": releases["gone"], "missing": 999_999}.get(what, releases["mine"])
    role = what if kind == "role" else "engineering_lead"
    before = rows(bot)
    message = edited_card(slack, "TAMPER mine", "sign:engineering_lead", ref(target, role))
    opened = len(slack.fake.views("UENG"))
    said = slack.refusal(
        "UENG",
        lambda: slack.click("UENG", "TAMPER mine", "sign:engineering_lead", message=message),
    )
    assert refusal in said, said
    assert "Something went wrong" not in said
    assert len(slack.fake.views("UENG")) == opened  # no Sign modal opened
    assert rows(bot) == before


@pytest.mark.parametrize(
    ("metadata", "user", "refusal"),
    [
        ("role:devops_lead", "UENG", "not an approver for DevOps Lead"),
        # refused for the final approval's missing section 10 fields before membership
        ("role:cto", "UENG", ""),
        ("release:gone", "UENG", "it was cancelled"),
        ("release:missing", "UENG", "That release no longer exists"),
        ("garbage", "UENG", "out of date"),
        # the form is UENG's; the signed payload says UNOBODY submitted it
        ("same", "UNOBODY", "not an approver for Engineering Lead"),
    ],
)
def test_a_sign_form_naming_another_release_or_role_is_rechecked(
    slack: Slack,
    bot: Bot,
    releases: dict[str, int],
    metadata: str,
    user: str,
    refusal: str,
) -> None:
    """UENG opens the Sign modal for Engineering Lead on `TAMPER other`; the submission's
    private_metadata is edited (or another user submits it): refused, nothing written."""
    view = slack.open_modal("UENG", "TAMPER other", "sign:engineering_lead")
    assert view.callback_id == "sign_view"
    kind, _, what = metadata.partition(":")
    target = {"gone": releases["gone"], "missing": 999_999}.get(what, releases["other"])
    edits: dict[str, str] = {}
    if kind == "role":
        edits["private_metadata"] = ref(target, what)
    elif kind == "release":
        edits["private_metadata"] = ref(target, "engineering_lead")
    elif kind == "garbage":
        edits["private_metadata"] = '{"r": "1; DROP TABLE signatures"}'
    before = rows(bot)
    body = submission(slack, user, view, sign_values(view), **edits)
    response = post(bot, body, signed(body))
    assert response.status_code == 200, response.text
    answer = response.json()
    assert answer["response_action"] == "errors", answer
    said = " ".join(answer["errors"].values())
    assert refusal in said, said
    assert "Something went wrong" not in said
    assert rows(bot) == before
    assert live_signatures(bot, "TAMPER other") == []
    assert release_id(bot, "TAMPER other") == releases["other"]
