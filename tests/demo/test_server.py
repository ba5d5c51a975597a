"""The demo server over plain HTTP, no browser: what the page sends becomes a request the
bot accepts only because it is signed as Slack signs it, and what the bot sends back
through the fake Web API comes out of the page's event stream."""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

from tests.demo.conftest import Demo, states

State = dict[str, Any]
# The page's scripts, in the order they must load (each uses what those before it define).
SCRIPTS = (
    "dom.js",
    "mrkdwn.js",
    "block-text.js",
    "block-inputs.js",
    "blocks.js",
    "demo-core.js",
    "demo-files.js",
    "demo-channels.js",
    "demo-messages.js",
    "demo-modal.js",
    "demo-composer.js",
    "demo.js",
)
STYLES = ("demo.css", "messages.css", "blockkit.css", "dialogs.css")


@pytest.fixture
def http(demo: Demo) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=demo.url, timeout=10.0) as client:
        yield client


def until(stream: Iterator[State], wanted: Callable[[State], Any], timeout: float = 20) -> Any:
    """Read state events until `wanted(state)` is truthy; return what it returned."""
    deadline = time.monotonic() + timeout
    for state in stream:
        found = wanted(state)
        if found:
            return found
        if time.monotonic() > deadline:
            break
    raise AssertionError(f"never saw it within {timeout}s")


def card(name: str) -> Callable[[State], State | None]:
    def find(state: State) -> State | None:
        return next((m for m in state["messages"] if m["text"].startswith(f"{name}:")), None)

    return find


def action(message: State, action_id: str) -> Any:
    for block in message["blocks"]:
        for element in block.get("elements") or []:
            if element.get("action_id") == action_id:
                return element
    raise AssertionError(f"no {action_id} in the message")


def test_the_page_is_served_with_a_strict_content_policy(http: httpx.Client) -> None:
    page = http.get("/")
    assert page.status_code == 200
    assert "This is not Slack." in page.text
    policy = page.headers["Content-Security-Policy"]
    assert "script-src 'self'" in policy and "unsafe-inline" not in policy
    assert re.findall(r'<script src="/demo/static/([^"]+)"', page.text) == list(SCRIPTS)
    assert re.findall(r'<link rel="stylesheet" href="/demo/static/([^"]+)"', page.text) == list(
        STYLES
    )
    for asset in (*SCRIPTS, *STYLES):
        assert http.get(f"/demo/static/{asset}").status_code == 200
    # Where no font has the glyph, mrkdwn.js draws the emoji from a picture of its own.
    picture = http.get("/demo/static/hourglass.svg")
    assert picture.status_code == 200 and picture.headers["Content-Type"] == "image/svg+xml"
    assert "<script" not in picture.text


def test_command_click_and_modal_go_signed_to_the_bot_and_come_back_live(
    http: httpx.Client,
) -> None:
    # Unsigned, the bot refuses: the demo only gets through because it signs.
    assert http.post("/slack/events", data={"command": "/readiness"}).status_code == 401

    with http.stream("GET", "/demo/events", params={"user": "UENG"}) as stream:
        seen = states(stream)
        first = next(seen)
        assert first["me"] == "UENG" and first["view"] is None
        assert {u["id"] for u in first["users"]} >= {"UENG", "UOPS", "UCTO", "UVIS"}

        typed = http.post("/demo/command", json={"user": "UENG", "text": "/readiness new API 2.0"})
        assert typed.json() == {"ok": True}
        posted = until(seen, card("API 2.0"))
        assert posted["blocks"][0]["text"]["text"] == "API 2.0 · production readiness"

        sign = action(posted, "sign:engineering_lead")
        clicked = http.post(
            "/demo/click",
            json={
                "user": "UENG",
                "where": "message",
                "ts": posted["ts"],
                "action_id": sign["action_id"],
                "value": sign["value"],
            },
        )
        assert clicked.json() == {"ok": True}
        view = until(seen, lambda s: s["view"])
        assert view["callback_id"] == "sign_view" and view["submit"] == "Sign"

        # Slack's client refuses an empty required field without asking the app.
        empty = http.post(
            "/demo/submit", json={"user": "UENG", "view_id": view["id"], "values": {}}
        )
        assert empty.json()["errors"] == {"attestations": "Please complete this required field."}
        ticks = [o["value"] for o in view["blocks"][1]["element"]["options"]]
        signed = http.post(
            "/demo/submit",
            json={"user": "UENG", "view_id": view["id"], "values": {"attestations": ticks}},
        )
        assert signed.json() == {"ok": True, "errors": {}}
        until(seen, lambda s: s["view"] is None)
        reply = until(
            seen,
            lambda s: next((m for m in s["messages"] if "signed as" in m["text"]), None),
        )
        assert reply["thread_ts"] == posted["ts"]
        assert reply["text"] == "<@UENG> signed as *Engineering Lead*."


def test_a_refusal_is_seen_only_by_the_person_refused(http: httpx.Client) -> None:
    http.post("/demo/command", json={"user": "UENG", "text": "/readiness new API 2.1"})
    with http.stream("GET", "/demo/events", params={"user": "UVIS"}) as stream:
        seen = states(stream)
        posted = until(seen, card("API 2.1"))
        sign = action(posted, "sign:devops_lead")
        http.post(
            "/demo/click",
            json={
                "user": "UVIS",
                "where": "message",
                "ts": posted["ts"],
                "action_id": sign["action_id"],
                "value": sign["value"],
            },
        )
        refusal = until(
            seen, lambda s: next((e for e in s["ephemerals"] if "approver" in e["text"]), None)
        )
        assert (
            refusal["text"]
            == "You are not an approver for DevOps Lead on the LUMINES/WIS2L checklist."
        )
    others = http.get("/demo/state", params={"user": "UENG"}).json()
    assert not [e for e in others["ephemerals"] if "approver" in e["text"]]


def test_a_switch_breaks_the_target_and_a_check_says_so(http: httpx.Client) -> None:
    broken = http.post("/demo/break", json={"part": "db", "broken": True})
    assert broken.json() == {"ok": True, "broken": ["db"]}
    try:
        state = http.get("/demo/state", params={"user": "UOPS"}).json()
        assert {"id": "db", "broken": True}.items() <= next(
            p for p in state["target"] if p["id"] == "db"
        ).items()
        with http.stream("GET", "/demo/events", params={"user": "UOPS"}) as stream:
            seen = states(stream)
            http.post("/demo/command", json={"user": "UOPS", "text": "/readiness new API 2.2"})
            text = until(
                seen,
                lambda s: next(
                    (
                        str(m["blocks"])
                        for m in s["messages"]
                        if m["text"].startswith("API 2.2:") and "answered 503" in str(m["blocks"])
                    ),
                    None,
                ),
            )
        assert "PostgreSQL deployed and healthy" in text
    finally:
        http.post("/demo/break", json={"part": "db", "broken": False})


def test_what_the_page_may_not_send(http: httpx.Client) -> None:
    # A cross-site form can't post JSON: a form-encoded command is refused (no CSRF).
    assert (
        http.post("/demo/command", data={"user": "UENG", "text": "/readiness list"}).status_code
        == 400
    )
    assert http.post("/demo/command", json={"user": "UNOBODY", "text": "hi"}).status_code == 400
    assert http.get("/demo/state", params={"user": "UNOBODY"}).status_code == 400
    assert http.post("/demo/break", json={"part": "kernel", "broken": True}).status_code == 400
    gone = http.post("/demo/submit", json={"user": "UENG", "view_id": "V9999", "values": {}})
    assert gone.status_code == 400 and gone.json()["error"] == "that modal is not open"
    other = http.post("/demo/command", json={"user": "UENG", "text": "/deploy now"})
    assert other.json() == {"ok": False, "error": "/deploy is not a command here; try /readiness"}


def test_the_home_tab_opens_for_the_person_looking(http: httpx.Client) -> None:
    http.post("/demo/command", json={"user": "UENG", "text": "/readiness new API 2.3"})
    with http.stream("GET", "/demo/events", params={"user": "USEC"}) as stream:
        seen = states(stream)
        until(seen, card("API 2.3"))
        assert http.post("/demo/home", json={"user": "USEC"}).json() == {"ok": True}
        home = until(seen, lambda s: s["home"])
    text = str(home["blocks"])
    assert "Waiting for your sign-off" in text and "API 2.3" in text
    assert "sign:security_lead" in text


def test_a_page_elsewhere_that_rebinds_its_name_to_this_machine_is_refused(
    http: httpx.Client,
) -> None:
    elsewhere = {"Host": "attacker.example:3000"}
    assert http.get("/demo/state", params={"user": "UENG"}, headers=elsewhere).status_code == 403
    posted = http.post(
        "/demo/command", json={"user": "UENG", "text": "/readiness list"}, headers=elsewhere
    )
    assert posted.status_code == 400 and posted.json()["error"] == "not this host"
    assert http.get(
        "/demo/state", params={"user": "UENG"}, headers={"Host": "localhost"}
    ).is_success


def exported(http: httpx.Client, name: str, card_ts: str) -> State:
    """`/readiness export NAME` until the document is in the card's thread: the bot says
    "The card … isn't in the channel yet" until it has recorded the card it just posted."""
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        typed = http.post(
            "/demo/command", json={"user": "UENG", "text": f"/readiness export {name}"}
        )
        assert typed.json() == {"ok": True}
        for _ in range(20):
            state = http.get("/demo/state", params={"user": "UENG"}).json()
            for message in state["messages"]:
                if message["files"] and message["thread_ts"] == card_ts:
                    return dict(message)
            time.sleep(0.1)
    raise AssertionError(f"{name}: no document in the card's thread")


def test_an_exported_document_is_served_to_read_as_plain_text(http: httpx.Client) -> None:
    with http.stream("GET", "/demo/events", params={"user": "UENG"}) as stream:
        seen = states(stream)
        http.post("/demo/command", json={"user": "UENG", "text": "/readiness new API 2.4"})
        posted = until(seen, card("API 2.4"))
    shared = exported(http, "API 2.4", posted["ts"])
    [file] = shared["files"]
    assert file["name"] == "API-2.4-signoff.md"
    assert file["title"] == "API 2.4: production readiness sign-off"
    assert file["id"].startswith("F") and file["size"] > 1000

    document = http.get(f"/demo/files/{file['id']}")
    assert document.status_code == 200
    # Untrusted text: shown as text, never sniffed as HTML, and runs nothing if opened.
    assert document.headers["Content-Type"] == "text/plain; charset=utf-8"
    assert document.headers["X-Content-Type-Options"] == "nosniff"
    assert "sandbox" in document.headers["Content-Security-Policy"]
    assert document.headers["Content-Disposition"] == 'inline; filename="API-2.4-signoff.md"'
    assert "API 2.4" in document.text and len(document.content) == file["size"]
    # Read-only: nothing but GET (and HEAD).
    assert http.post(f"/demo/files/{file['id']}", json={}).status_code == 405
    assert http.head(f"/demo/files/{file['id']}").status_code == 200

    assert http.get("/demo/files/F0").status_code == 404
    assert http.get("/demo/files/..%2Fapp.yaml").status_code == 404
    elsewhere = {"Host": "attacker.example:3000"}
    assert http.get(f"/demo/files/{file['id']}", headers=elsewhere).status_code == 403


def _verbs_of(help_text: str) -> list[str]:
    return re.findall(r"`/readiness (\w+)", help_text)


def test_the_composer_offers_every_verb_of_the_command(http: httpx.Client) -> None:
    from bot.slack.blocks.messages import HELP
    from bot.slack.manifest import USAGE

    script = http.get("/demo/static/demo-composer.js").text
    table = script[script.index("const COMMANDS = [") : script.index("];")]
    offered = re.findall(r'\["(\w+)', table)
    helped = _verbs_of(HELP)
    usage = [part.split()[0] for part in USAGE.split("|")]
    assert "export" in offered
    assert offered == helped, "the composer's hints, in the order of /readiness help"
    assert sorted(offered) == sorted(usage)


def test_each_channel_is_its_products_and_so_are_the_roles(http: httpx.Client) -> None:
    """Two channels, each routed to its product; a command says where it was typed, and
    what the bot posts lands in that channel only; roles are the product's."""
    state = http.get("/demo/state", params={"user": "USEC"}).json()
    assert [(c["id"], c["name"], c["product"], c["title"]) for c in state["channels"]] == [
        ("CRELEASE", "releases", "lumines", "LUMINES/WIS2L"),
        ("CPAYMENTS", "payments-releases", "payments", "Payments"),
    ]
    lumines, payments = state["channels"]
    assert payments["sections"] == 3 and payments["sections"] < lumines["sections"]
    roles = {u["id"]: u["roles"] for u in state["users"]}
    assert roles["USEC"] == {"lumines": "Security Lead"}
    assert roles["UPSEC"] == {"payments": "Security Lead"}
    assert roles["UCTO"] == {
        "lumines": "CTO/Engineering Manager",
        "payments": "CTO/Engineering Manager",
    }
    assert roles["UVIS"] == {}

    typed = {"user": "UENG", "text": "/readiness new Payments 3.0", "channel": "CPAYMENTS"}
    with http.stream("GET", "/demo/events", params={"user": "USEC"}) as stream:
        seen = states(stream)
        assert http.post("/demo/command", json=typed).json() == {"ok": True}
        posted = until(seen, card("Payments 3.0"))
        assert posted["channel"] == "CPAYMENTS"
        assert posted["blocks"][1]["elements"][0]["text"].startswith("Payments · opened by")
        sign = action(posted, "sign:security_lead")
        http.post(
            "/demo/click",
            json={
                "user": "USEC",
                "where": "message",
                "channel": "CPAYMENTS",
                "ts": posted["ts"],
                "action_id": sign["action_id"],
                "value": sign["value"],
            },
        )
        refusal = until(
            seen, lambda s: next((e for e in s["ephemerals"] if "approver" in e["text"]), None)
        )
    assert refusal["channel"] == "CPAYMENTS"
    assert refusal["text"] == "You are not an approver for Security Lead on the Payments checklist."
    # The message was in #payments-releases: looked for in #releases, it is not there.
    elsewhere = http.post(
        "/demo/click",
        json={**{"user": "USEC", "where": "message", "ts": posted["ts"]}, "action_id": "x"},
    )
    assert elsewhere.json()["error"] == "that message is gone"
    nowhere = http.post("/demo/command", json={**typed, "channel": "CNOWHERE"})
    assert nowhere.status_code == 400 and "no channel" in nowhere.json()["error"]
