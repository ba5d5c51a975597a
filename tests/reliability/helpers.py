"""Helpers of the reliability suite: a quiet bot, row counts, releases, signed bodies."""

from __future__ import annotations

import json
import re
import threading
import time
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import yaml

from bot.fake_slack import FakeSlackThread, Message, Response, View, payloads
from bot.fake_slack.elements import element_action, find_elements
from tests.scenario.conftest import Slack
from tests.scenario.harness import CHANNEL, ROOT, SECRET, Bot, ThreadedTarget, text_of

TABLES = ("releases", "signatures", "audit_events", "outbox")

# Who may sign what (tests/scenario/harness.py's environment): the non-final roles.
SIGNERS = {
    "engineering_lead": "UENG",
    "devops_lead": "UOPS",
    "security_lead": "USEC",
    "product_owner": "UPRD",
}
# A module's `ROLES` for many sign-offs at once: the Engineering Lead needs two signers,
# so the non-final roles of a release take the five SIGN_OFFS, (role, user) each.
TWO_ENGINEERING_LEADS = {"engineering_lead": {"min_signers": 2}}
SIGN_OFFS = [
    ("engineering_lead", "UENG"),
    ("engineering_lead", "UENG2"),
    ("devops_lead", "UOPS"),
    ("security_lead", "USEC"),
    ("product_owner", "UPRD"),
]


def quiet_config(
    tmp: Path, roles: Mapping[str, Mapping[str, Any]] | None = None, checks: bool = True
) -> Path:
    """The shipped app.yaml with fast Slack pacing, no cron jobs (no scheduled re-check or
    reminder may write rows while a test counts them) and latency checks a tenth as long
    (these tests open many releases, and opening one runs every check). `roles` adds to
    roles' settings (e.g. `min_signers`); `checks=False` makes every checklist item manual,
    for tests about signatures that open many releases."""
    text = (ROOT / "app.yaml").read_text()
    text, shrunk = re.subn(r"requests: (\d+)", lambda m: f"requests: {int(m[1]) // 10}", text)
    assert shrunk >= 2, "app.yaml has no latency checks to shorten"
    config = yaml.safe_load(text)
    assert config["schedules"].keys() >= {"recheck", "reminder"}, "app.yaml changed"
    config["schedules"].update(recheck=None, reminder=None)
    config["slack"] = {"card_update_interval": "200ms", "post_interval": "20ms"}
    for role, settings in (roles or {}).items():
        config["roles"][role].update(settings)
    if not checks:
        for section in config["sections"]:
            for item in section["items"]:
                item.pop("check", None)
    path = tmp / "reliability.yaml"
    path.write_text(yaml.safe_dump(config, sort_keys=False, allow_unicode=True))
    return path


def start_bot(
    fake: FakeSlackThread,
    target: ThreadedTarget,
    tmp: Path,
    database: str,
    roles: Mapping[str, Mapping[str, Any]] | None = None,
    checks: bool = True,
    **env: str,
) -> Bot:
    config = quiet_config(tmp, roles, checks)
    return Bot(fake, target, tmp, database, READINESS_CONFIG=str(config), **env).start()


# --- reading the database -------------------------------------------------------------


def query(bot: Bot, sql: str, **params: Any) -> list[tuple[Any, ...]]:
    """SQL's rows from the bot's database, as tuples (`:name` parameters)."""
    return [tuple(row) for row in bot.sql(sql, **params)]


def rows(bot: Bot) -> dict[str, int]:
    """How many rows each table that a request could write to holds."""
    return {table: query(bot, f"SELECT count(*) FROM {table}")[0][0] for table in TABLES}


def release_id(bot: Bot, name: str) -> int:
    found = query(
        bot, "SELECT id FROM releases WHERE name = :name AND state != 'cancelled'", name=name
    )
    assert found, f"no release {name}"
    return int(found[0][0])


def live_signatures(bot: Bot, name: str) -> list[tuple[str, str]]:
    """(role, user) of every signature on NAME not withdrawn."""
    return [
        (str(role), str(user))
        for role, user in query(
            bot,
            "SELECT role_id, user_id FROM signatures JOIN releases ON releases.id = release_id "
            "WHERE releases.name = :name AND withdrawn_at IS NULL ORDER BY signatures.id",
            name=name,
        )
    ]


def unsent(bot: Bot) -> int:
    """Outbox rows and card versions still to reach Slack."""
    messages = query(bot, "SELECT count(*) FROM outbox WHERE sent_at IS NULL")[0][0]
    cards = query(bot, "SELECT count(*) FROM releases WHERE card_sent_version < card_version")
    return int(messages) + int(cards[0][0])


# --- Slack -----------------------------------------------------------------------------


def open_release(slack: Slack, name: str, ref: str = "abc123") -> int:
    """`/readiness new NAME`, its checks finished and its card posted; the release id."""
    reply = slack.command("UREL", f"new {name} ref={ref}")
    assert f"Opened *{name}*" in reply, reply
    slack.checks_done(name)
    slack.wait_card(name, "Readiness")
    return release_id(slack.bot, name)


def open_releases(slack: Slack, names: Sequence[str]) -> list[Response]:
    """`/readiness new NAME` for each of NAMES, one after the other without waiting for
    the cards; the private replies, once there is one for each."""
    answered = len(slack.fake.responses())
    for name in names:
        assert slack.driver.command("UREL", f"new {name}", channel=CHANNEL).status_code == 200
    return slack.fake.wait_for(
        lambda f: f.responses()[answered:] if len(f.responses()) >= answered + len(names) else None
    )


def settle(slack: Slack, timeout: float = 20) -> None:
    """Wait until every queued card update and thread message reached Slack and was
    recorded as sent (polled: the record follows the call the fake saw)."""
    wait_until(lambda: unsent(slack.bot) == 0, timeout, "outbound work still unsent")


def wait_until(condition: Callable[[], object], timeout: float = 20, what: str = "") -> None:
    """Poll CONDITION (something the fake can't see, e.g. a database row) until true."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s: {what}")
        time.sleep(0.02)


def thread_texts(slack: Slack, name: str) -> list[str]:
    return slack.thread(name)


def sign_values(view: View) -> dict[str, Any]:
    """Every attestation of the Sign modal ticked."""
    options = [
        o["value"]
        for b in view.blocks
        if b.get("block_id") == "attestations"
        for o in b["element"]["options"]
    ]
    assert options, view.all_text()
    return {"attestations": options}


def submission(
    slack: Slack,
    user: str,
    view: View,
    values: Mapping[str, Any] | None = None,
    **edits: Any,
) -> bytes:
    """The view_submission body Slack would send for VIEW, with fields of the view
    replaced by `edits` (e.g. a private_metadata a client tampered with)."""
    spec = {**view.as_slack(), **edits}
    return payloads.view_submission(
        {"id": user, "name": user.lower()},
        spec,
        dict(values if values is not None else sign_values(view)),
        enforce_required=False,
        trigger_id=slack.fake.issue_trigger_id(user, view.id),  # each submission has its own
        team_id=slack.driver.team_id,
        team_domain=slack.driver.team_domain,
        api_app_id=slack.driver.app_id,
    )


def signed(body: bytes, timestamp: int | None = None) -> dict[str, str]:
    return {"Content-Type": payloads.FORM, **payloads.sign(SECRET, body, timestamp)}


def post(bot: Bot, body: bytes, headers: Mapping[str, str | bytes]) -> httpx.Response:
    return httpx.post(bot.events_url, content=body, headers=dict(headers), timeout=15)


def card_text(slack: Slack, name: str) -> str:
    return text_of(slack.card(name).blocks)


def click_body(slack: Slack, user: str, message: Message, action_id: str) -> bytes:
    """The block_actions body of USER clicking ACTION_ID on MESSAGE, as the driver's click
    builds it (its own trigger_id and response_url), without sending it."""
    found = find_elements(message.blocks, action_id)
    assert len(found) == 1, (action_id, message.action_ids())
    block, element = found[0]
    return payloads.block_actions(
        {"id": user, "name": user.lower()},
        {"id": message.channel, "name": "releases"},
        message.as_slack(),
        element_action(block, element),
        trigger_id=slack.fake.issue_trigger_id(user),
        response_url=slack.fake.new_response_url(message.channel, user, message.ts),
        team_id=slack.driver.team_id,
        team_domain=slack.driver.team_domain,
        api_app_id=slack.driver.app_id,
    )


def post_together(bot: Bot, bodies: Sequence[bytes]) -> list[httpx.Response]:
    """POST every body, signed, at the same moment (one thread each, released together).
    One client for all: making one per thread (its SSL context) took a loaded machine
    seconds, out of the 3 s a body's trigger_id lives, before the first request left."""
    start = threading.Barrier(len(bodies))
    limits = httpx.Limits(max_connections=len(bodies), max_keepalive_connections=0)

    with httpx.Client(timeout=30, limits=limits) as http:

        def send(body: bytes) -> httpx.Response:
            headers = signed(body)
            start.wait()
            return http.post(bot.events_url, content=body, headers=headers)

        with ThreadPoolExecutor(len(bodies)) as pool:
            return list(pool.map(send, bodies))


def open_sign_modals(
    slack: Slack, wanted: Sequence[tuple[str, str, str]]
) -> dict[tuple[str, str, str], View]:
    """Click `Sign as ROLE` for every (release name, role, user) at once; their modals,
    keyed the same way (each modal says which release and role it is for)."""
    ids = {name: release_id(slack.bot, name) for name, _, _ in wanted}
    cards = {name: slack.card(name) for name in ids}
    users = {user for _, _, user in wanted}
    opened = {user: len(slack.fake.views(user)) for user in users}
    bodies = [click_body(slack, user, cards[name], f"sign:{role}") for name, role, user in wanted]
    assert all(r.status_code == 200 for r in post_together(slack.bot, bodies))
    expect = Counter(user for _, _, user in wanted)

    def all_open(fake: Any) -> list[View] | None:
        views = [v for user in users for v in fake.views(user)[opened[user] :]]
        if Counter(v.user for v in views) != expect:
            return None
        return views

    views = slack.fake.wait_for(all_open, timeout=30)
    found: dict[tuple[str, str, str], View] = {}
    names = {number: name for name, number in ids.items()}
    for view in views:
        meta = json.loads(view.private_metadata)
        found[(names[meta["r"]], meta["role"], view.user)] = view
    assert sorted(found) == sorted(wanted), "a Sign modal did not open"
    return found


def sign_off_bodies(
    slack: Slack, names: Sequence[str], sign_offs: Sequence[tuple[str, str]] = SIGN_OFFS
) -> tuple[dict[tuple[str, str, str], View], list[bytes]]:
    """A Sign modal opened for each (role, user) of SIGN_OFFS on each release of NAMES,
    all at once (keyed as open_sign_modals keys them), and the view_submission body of
    each modal, every attestation ticked, in the same order."""
    wanted = [(name, role, user) for name in names for role, user in sign_offs]
    modals = open_sign_modals(slack, wanted)
    return modals, [submission(slack, user, view) for (_, _, user), view in modals.items()]
