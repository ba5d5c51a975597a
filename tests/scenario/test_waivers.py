"""Waivers over HTTP (issue 17's acceptance), on a release whose blocking item `health_db`
fails (the LUMINES target answers /api/health/db with 503): the Engineering Lead's
`/readiness waive health_db for=2d …` is posted in the card's thread with Approve waiver /
Deny waiver; its asker's own Approve is refused privately and changes nothing; a Security
Lead grants it, the card shows the item waived, and the release is then fully approved (the
gate answers 200, the export lists the waiver with its reason and expiry). A short waiver
expires: the gate answers 409 naming it, and the tick suspends the release and says so in
the thread. A denial needs a reason; the Checklist's Request waiver… form refuses a
duration over `waivers.max` on its field."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar
from urllib.parse import quote

import httpx
import pytest

from bot.fake_slack import FakeSlackThread
from bot.slack import ids
from tests.databases import Databases
from tests.scenario.conftest import Slack, approve_all_but_final
from tests.scenario.harness import CHANNEL, ROLES, Bot, ThreadedTarget, edited_app

TOKEN = "waiver-api-token"
REASON = "Known outage, fix in 1.0.1"
DB = "Database health endpoint: /api/health/db"
T = TypeVar("T")


@pytest.fixture(scope="module")
def bot(
    fake: FakeSlackThread,
    target: ThreadedTarget,
    module_databases: Databases,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Bot]:
    """The scenario bot with a tick of a second (a waiver's expiry is recorded on a tick),
    and its target's database endpoint down for the whole module: `health_db` fails (and
    only it: `postgres_healthy`, which probes the same endpoint, probes /api/health)."""
    tmp = tmp_path_factory.mktemp("waivers")

    def edit(app: dict[str, Any]) -> None:
        app["schedules"]["tick"] = "1s"
        items = [i for s in app["sections"] for i in s["items"]]
        (postgres,) = [i for i in items if i["id"] == "postgres_healthy"]
        check = postgres["check"]
        check["url"] = check["url"].replace("/api/health/db", "/api/health")

    config = edited_app(tmp, edit, "waivers.yaml")
    target.state.broken.add("db")
    running = Bot(
        fake,
        target,
        tmp,
        module_databases.url(tmp),
        READINESS_API_TOKEN=TOKEN,
        READINESS_CONFIG=str(config),
    ).start()
    yield running
    running.stop()
    target.state.broken.discard("db")


def poll(what: str, probe: Callable[[], T | None], timeout: float = 60) -> T:
    """PROBE's first truthy answer, asked until TIMEOUT seconds have passed."""
    deadline = time.monotonic() + timeout
    while True:
        got = probe()
        if got:
            return got
        if time.monotonic() > deadline:
            raise AssertionError(f"{what}: not within {timeout}s")
        time.sleep(0.2)


def card_without(slack: Slack, name: str, needle: str) -> str:
    """The card's text once it no longer shows NEEDLE."""

    def gone() -> str | None:
        text = slack.card_text(name)
        return text if needle not in text else None

    return poll(f"the card still shows {needle!r}", gone, timeout=15)


def failing_release(slack: Slack, name: str) -> None:
    """A release opened in the channel whose checks have run: health_db fails."""
    assert f"Opened *{name}*" in slack.command("UREL", f"new {name} ref=abc123")
    slack.checks_done(name)
    card = slack.wait_card(name, "answered 503 Service Unavailable, expected 200")
    assert "Not passing" in card


def request_message(slack: Slack, name: str, needle: str = "asks to waive") -> Any:
    """The newest waiver request in the card's thread (its message as it now stands)."""
    ts = slack.card(name).ts

    def found(s: Any) -> Any:
        asked = [m for m in s.thread(CHANNEL, ts) if needle in m.all_text()]
        return asked[-1] if asked else None

    return slack.fake.wait_for(found, timeout=15)


def redrawn(slack: Slack, name: str, needle: str) -> Any:
    """The request message once redrawn without its Approve / Deny buttons."""
    ts = slack.card(name).ts

    def found(s: Any) -> Any:
        asked = [m for m in s.thread(CHANNEL, ts) if "asks to waive" in m.all_text()]
        return next((m for m in asked if needle in m.all_text()), None)

    try:
        message = slack.fake.wait_for(found, timeout=15)
    except TimeoutError:
        thread = "\n---\n".join(m.all_text() for m in slack.fake.thread(CHANNEL, ts))
        raise AssertionError(
            f"no request shows {needle!r}:\n{thread}\n--- bot log ---\n{slack.bot.log()[-3000:]}"
        ) from None
    assert ids.WAIVER_APPROVE not in message.action_ids(), message.all_text()
    assert ids.WAIVER_DENY not in message.action_ids(), message.all_text()
    return message


def waivers(bot: Bot, name: str) -> list[tuple[Any, ...]]:
    return [
        tuple(row)
        for row in bot.sql(
            "SELECT w.id, w.item_id, w.state, w.requested_by, w.decided_by, w.reason, "
            "w.denial, w.duration_s FROM waivers w JOIN releases r ON r.id = w.release_id "
            "WHERE r.name = :name ORDER BY w.id",
            name=name,
        )
    ]


def audited(bot: Bot, name: str, prefix: str = "waiver.") -> list[str]:
    return [
        str(kind)
        for (kind,) in bot.sql(
            "SELECT a.kind FROM audit_events a JOIN releases r ON r.id = a.release_id "
            "WHERE r.name = :name AND a.kind LIKE :prefix ORDER BY a.id",
            name=name,
            prefix=f"{prefix}%",
        )
    ]


def grant(slack: Slack, name: str, request: Any, user: str = "USEC") -> None:
    slack.click(user, name, ids.WAIVER_APPROVE, message=request)
    granted = redrawn(slack, name, f"Granted by <@{user}>")
    assert granted.action_ids() == []  # answered: the card offers Withdraw waiver
    slack.wait_thread(name, "granted the waiver of")
    slack.wait_card(name, "waived* by")
    assert ids.WAIVER_WITHDRAW in slack.card(name).action_ids()


def sign_final(slack: Slack, name: str) -> None:
    response = slack.sign("UCTO", name, "cto")
    assert response.status_code == 200 and not response.text, response.text
    slack.wait_card(name, "Approved for production deployment")


def test_a_waiver_asked_by_one_approver_and_granted_by_another_opens_the_gate(
    slack: Slack, bot: Bot, name: str
) -> None:
    failing_release(slack, name)
    assert bot.release_api(name, "/gate").status_code == 409

    said = slack.command("UENG", f"waive health_db for=2d {REASON}")  # the newest release
    assert f"on *{name}* for 2d" in said, said
    request = request_message(slack, name)
    text = request.all_text()
    assert "<@UENG> asks to waive" in text and DB in text and "for 2d" in text
    assert REASON in text
    assert "<@USEC>" in text and "<@UCTO>" in text  # who may answer, mentioned
    assert ids.WAIVER_APPROVE in request.action_ids() and ids.WAIVER_DENY in request.action_ids()
    ((waiver_id, item, state, asker, *_),) = waivers(bot, name)
    assert (item, state, asker) == ("health_db", "requested", "UENG")
    assert "waiting for an answer" in slack.wait_card(name, "waiting for an answer")

    # UENG is a Security Lead too: an approver, but the one who asked.
    thread = slack.thread(name)
    refused = slack.refusal(
        "UENG", lambda: slack.click("UENG", name, ids.WAIVER_APPROVE, message=request)
    )
    assert "You asked for this waiver, so another approver must answer it." in refused
    refused = slack.refusal(
        "UOPS", lambda: slack.click("UOPS", name, ids.WAIVER_APPROVE, message=request)
    )
    assert "can answer a waiver request" in refused
    assert [w[2] for w in waivers(bot, name)] == ["requested"]
    assert audited(bot, name) == ["waiver.requested"]
    assert ids.WAIVER_APPROVE in request_message(slack, name).action_ids()
    assert "waived* by" not in slack.card_text(name)
    assert slack.thread(name) == thread  # nothing said in the channel

    grant(slack, name, request)
    ((_, _, state, _, grantor, reason, _, seconds),) = waivers(bot, name)
    assert (state, grantor, reason, seconds) == ("granted", "USEC", REASON, 2 * 86400)
    assert audited(bot, name) == ["waiver.requested", "waiver.granted"]
    card = slack.wait_card(name, "waived* by <@USEC> until", REASON)
    assert "(latest: fail" in card  # never shown as passing
    pushed = httpx.post(  # a result pushed for the item: still waived, never passing
        f"{bot.url}/api/releases/{quote(name, safe='')}/results",
        json={"item": "health_db", "status": "fail", "reason": "still 503"},
        headers={"Authorization": f"Bearer {TOKEN}"},
        timeout=15,
    )
    assert pushed.status_code == 201, pushed.text
    item = pushed.json()["item"]
    assert (item["status"], item["latest"], item["waiver"]["reason"]) == ("waived", "fail", REASON)
    checklist = slack.open_modal("UOPS", name, ids.CHECKLIST)
    assert "*waived* by <@USEC> until" in checklist.all_text() and REASON in checklist.all_text()
    assert ids.WAIVER_ASK not in checklist.action_ids()

    approve_all_but_final(slack, name)  # the waiver counts: readiness 100%
    sign_final(slack, name)
    opened = bot.release_api(name, "/gate")
    assert opened.status_code == 200, opened.text
    assert opened.json()["approved"] is True

    release = bot.release_api(name).json()
    (shown,) = release["waivers"]
    assert shown["id"] == waiver_id and shown["item"] == "health_db"
    assert shown["state"] == "granted" and shown["reason"] == REASON
    assert shown["requested_by"] == "UENG" and shown["decided_by"] == "USEC"
    expires = datetime.fromisoformat(shown["expires_at"])
    assert timedelta(days=2) - timedelta(minutes=5) < expires - datetime.now(UTC)
    assert expires - datetime.now(UTC) <= timedelta(days=2)

    done = bot.cli("export", *name.split(), "--format", "json")
    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)
    (exported,) = data["waivers"]
    assert exported["reason"] == REASON and exported["state"] == "granted"
    assert datetime.fromisoformat(exported["expires_at"]) == expires
    items = [i for s in data["sections"] for i in s["items"]]
    (item,) = [i for i in items if i["id"] == "health_db"]
    assert (item["status"], item["latest"]) == ("waived", "fail"), item
    assert item["waiver"]["reason"] == REASON
    assert datetime.fromisoformat(item["waiver"]["until"]) == expires
    markdown = bot.cli("export", *name.split())
    assert markdown.returncode == 0, markdown.stderr
    assert "**waived** by" in markdown.stdout and REASON in markdown.stdout
    assert "Granted by" in markdown.stdout and "until" in markdown.stdout
    assert expires.strftime("%Y-%m-%d") in markdown.stdout

    # Only its grantor withdraws it, from the card; the approved release is suspended.
    refused = slack.refusal("UCTO", lambda: slack.click("UCTO", name, ids.WAIVER_WITHDRAW))
    assert "who granted it, can withdraw it" in refused
    assert bot.release_api(name, "/gate").status_code == 200
    said = slack.refusal("USEC", lambda: slack.click("USEC", name, ids.WAIVER_WITHDRAW))
    assert "is withdrawn; it counts by its latest result again" in said
    slack.wait_card(name, "Suspended", f"the waiver of {DB} was withdrawn")
    assert ids.WAIVER_WITHDRAW not in slack.card(name).action_ids()
    held = bot.release_api(name, "/gate")
    assert held.status_code == 409
    assert any(f"the waiver of {DB} was withdrawn" in r for r in held.json()["reasons"])
    assert audited(bot, name)[-1] == "waiver.withdrawn"
    slack.wait_thread(name, "withdrew the waiver of")
    redrawn(slack, name, "Granted by <@USEC>, until")
    redrawn(slack, name, "; withdrawn by <@USEC>")


def test_a_waiver_that_expires_suspends_the_approved_release(
    slack: Slack, bot: Bot, name: str
) -> None:
    failing_release(slack, name)
    for user in ROLES.values():  # ticks are not signatures: given before the grant
        assert slack.tick_own_items(user, name).status_code == 200
    lasts = 15  # seconds: the signatures are given after the grant, before its expiry
    said = slack.command("UPRD", f"waive {name} health_db for={lasts}s Flaky probe")
    assert f"on *{name}* for {lasts}s" in said, said
    request = request_message(slack, name)
    slack.click("UCTO", name, ids.WAIVER_APPROVE, message=request)
    granted_at = time.monotonic()
    redrawn(slack, name, "Granted by <@UCTO>")
    slack.wait_card(name, "Readiness 100%")
    for role, user in ROLES.items():
        response = slack.sign(user, name, role)
        assert response.status_code == 200 and not response.text, response.text
    slack.wait_card(name, "Approved for production deployment")
    assert bot.release_api(name, "/gate").status_code == 200, "approved while the waiver lasts"
    assert time.monotonic() - granted_at < lasts, "signing took longer than the waiver"

    def closed() -> dict[str, Any] | None:
        answer = bot.release_api(name, "/gate")
        return answer.json() if answer.status_code == 409 else None

    held = poll("the gate closing at the waiver's expiry", closed)
    assert any(f"the waiver of {DB} expired" in r for r in held["reasons"]), held

    def suspended() -> dict[str, Any] | None:
        release = bot.release_api(name).json()
        return release if release["state"] == "suspended" else None

    release = poll("the tick suspending the release", suspended)
    assert [w["state"] for w in release["waivers"]] == ["expired"]
    slack.wait_thread(name, "The waiver of")
    (notice,) = [t for t in slack.thread(name) if "The waiver of" in t]
    assert DB in notice and "expired" in notice and "counts by its latest result again" in notice
    assert audited(bot, name).count("waiver.expired") == 1
    still = bot.release_api(name, "/gate")
    assert still.status_code == 409 and still.json()["state"] == "suspended"
    assert any(f"the waiver of {DB} expired" in r for r in still.json()["reasons"])
    card = slack.wait_card(name, "Suspended", f"the waiver of {DB} expired")
    assert "waived* by" not in card and "Approved for production deployment" not in card
    assert ids.WAIVER_WITHDRAW not in slack.card(name).action_ids()  # nothing left to withdraw
    redrawn(slack, name, "Granted by <@UCTO>, until")
    redrawn(slack, name, "; expired")  # the request says so too


def test_a_denial_needs_a_reason_and_the_item_still_blocks(
    slack: Slack, bot: Bot, name: str
) -> None:
    failing_release(slack, name)
    said = slack.command("UENG", f"waive {name} health_db for=1d Not ours, see ticket=OPS-1")
    assert f"on *{name}* for 1d" in said, said
    request = request_message(slack, name)

    view = slack.open_modal("USEC", name, ids.WAIVER_DENY, message=request)
    assert view.callback_id == ids.WAIVER_DENY_VIEW, view.all_text()
    assert slack.fake.calls("views.open")[-1].ok
    empty = slack.driver.submit("USEC", view, {ids.REASON: ""}, enforce_required=False)
    assert empty.status_code == 200
    refused = empty.json()
    assert refused["response_action"] == "errors" and ids.REASON in refused["errors"], refused
    assert [w[2] for w in waivers(bot, name)] == ["requested"]

    view = slack.open_modal("USEC", name, ids.WAIVER_DENY, message=request)
    slack.fake.fail("chat.update", status=429, retry_after=1, ts=request.ts)  # it waits
    denied = slack.driver.submit(
        "USEC", view, {ids.REASON: "Fix the probe first"}, enforce_required=False
    )
    assert denied.status_code == 200 and not denied.text, denied.text
    message = redrawn(slack, name, "Denied by <@USEC>")
    assert "Fix the probe first" in message.all_text()
    edits = [c for c in slack.fake.calls("chat.update") if c.args.get("ts") == request.ts]
    assert [c.status for c in edits] == [429, 200], edits  # refused once, then waited out
    assert edits[1].at - edits[0].at >= 0.9  # its Retry-After (1 s)
    assert ids.WAIVER_WITHDRAW not in message.action_ids()
    slack.wait_thread(name, "denied the waiver of")
    ((_, _, state, _, decider, reason, denial, _),) = waivers(bot, name)
    assert (state, decider, denial) == ("denied", "USEC", "Fix the probe first")
    assert reason == "Not ours, see ticket=OPS-1"  # an '=' in the reason is no option
    assert audited(bot, name) == ["waiver.requested", "waiver.denied"]

    card = card_without(slack, name, "waiting for an answer")  # redrawn at its own pace
    assert "waived" not in card and "Not passing" in card
    held = bot.release_api(name, "/gate")
    assert held.status_code == 409
    assert any(DB in r for r in held.json()["reasons"]), held.json()
    refused_again = slack.refusal(
        "UCTO", lambda: slack.click("UCTO", name, ids.WAIVER_APPROVE, message=request)
    )
    assert "That waiver was already denied." in refused_again


def test_the_checklist_asks_for_a_waiver_in_a_form_on_top(
    slack: Slack, bot: Bot, name: str
) -> None:
    failing_release(slack, name)
    checklist = slack.open_modal("UOPS", name, ids.CHECKLIST)
    assert ids.WAIVER_ASK in checklist.action_ids(), checklist.all_text()

    pushes = len(slack.fake.calls("views.push"))
    clicked = slack.driver.click_in_view("UOPS", checklist, ids.WAIVER_ASK)
    assert clicked.status_code == 200, clicked.text
    form = slack.fake.wait_for(
        lambda s: s.views("UOPS")[-1] if len(s.calls("views.push")) > pushes else None,
        timeout=15,
    )
    assert form is not None
    assert slack.fake.calls("views.push")[-1].ok
    assert form.callback_id == ids.WAIVER_VIEW, form.all_text()
    assert form.previous_view_id == checklist.id
    assert DB in form.all_text() and "at most 14d" in form.all_text()

    too_long = slack.driver.submit(
        "UOPS",
        form,
        {ids.DURATION: "15d", ids.REASON: "Vendor outage"},
        enforce_required=False,
    )
    assert too_long.status_code == 200
    refused = too_long.json()
    assert refused["response_action"] == "errors", refused
    assert "at most 14d" in refused["errors"][ids.DURATION], refused
    still = slack.fake.view(form.id)
    assert still is not None and not still.closed  # the form stays open, said on its field
    assert waivers(bot, name) == []

    submitted = slack.driver.submit(
        "UOPS", form, {ids.DURATION: "3d", ids.REASON: "Vendor outage"}, enforce_required=False
    )
    assert submitted.status_code == 200, submitted.text
    answer = submitted.json() if submitted.text else {}
    assert answer.get("response_action") in (None, "clear"), answer  # done: the form closes
    closed = slack.fake.view(form.id)
    assert closed is not None and closed.closed and not closed.errors
    request = request_message(slack, name, "Vendor outage")
    assert "<@UOPS> asks to waive" in request.all_text() and "for 3d" in request.all_text()
    assert ids.WAIVER_APPROVE in request.action_ids()
    ((_, item, state, asker, _, reason, _, seconds),) = waivers(bot, name)
    assert (item, state, asker, reason, seconds) == (
        "health_db",
        "requested",
        "UOPS",
        "Vendor outage",
        3 * 86400,
    )
    again = slack.open_modal("UOPS", name, ids.CHECKLIST)
    assert ids.WAIVER_ASK not in again.action_ids()  # asked for already


def test_a_request_left_unanswered_when_the_ref_moves_is_ended_in_place(
    slack: Slack, bot: Bot, name: str
) -> None:
    """No Approve waiver is left to click on a request the ref change ended."""
    failing_release(slack, name)
    said = slack.command("UENG", f"waive {name} health_db for=1d {REASON}")
    assert f"on *{name}* for 1d" in said, said
    request = request_message(slack, name)
    assert ids.WAIVER_APPROVE in request.action_ids()
    assert "Moved" in slack.command("UREL", f"new {name} ref=def456")
    redrawn(slack, name, "Ended unanswered: the release's ref changed")
    assert [w[2] for w in waivers(bot, name)] == ["ref_changed"]
    assert audited(bot, name) == ["waiver.requested", "waiver.ref_changed"]
