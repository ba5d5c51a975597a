"""Three `readiness serve` replicas on one PostgreSQL database, requests spread across
them: sign-offs acknowledged on any replica are all there after one replica is killed
mid-burst, none doubled, the audit chain one chain; a replay to another replica is refused."""

from __future__ import annotations

import itertools
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest

from bot.fake_slack import FakeSlackThread, SlackDriver, payloads
from tests.databases import Databases, sql
from tests.scenario.harness import (
    CHANNEL,
    SECRET,
    USERS,
    Bot,
    ThreadedTarget,
    edited_app,
    replicas_running,
    text_of,
)

pytestmark = pytest.mark.postgresql

RELEASES = [f"REPLICA {n}.0.0" for n in range(1, 9)]
SIGNERS = {  # five roles short of the final one: 8 releases x 5 = 40 sign-offs
    "engineering_lead": "UENG",
    "devops_lead": "UOPS",
    "security_lead": "USEC",
    "product_owner": "UPRD",
    "qa_lead": "UQA",
}


def config(tmp: Path) -> Path:
    def edit(app: dict[str, Any]) -> None:
        qa = {"title": "QA Lead", "members": ["UQA"], "attestations": ["Tested"]}
        app["roles"]["qa_lead"] = qa

    return edited_app(tmp, edit)


@pytest.fixture(scope="module")
def fake() -> Iterator[FakeSlackThread]:
    with FakeSlackThread() as thread:
        thread.add_channel(CHANNEL, "releases")
        for user_id, name in {**USERS, "UQA": "qa.lead"}.items():
            thread.add_user(user_id, name)
        thread.add_usergroup("SPRODUCT", ["UGROUP"], handle="product")
        yield thread


@pytest.fixture(scope="module")
def replicas(
    fake: FakeSlackThread,
    target: ThreadedTarget,
    module_databases: Databases,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[list[Bot]]:
    app = str(config(tmp_path_factory.mktemp("replicas")))
    url = module_databases.new_postgresql()
    with replicas_running(
        fake, target, url, tmp_path_factory.mktemp, 3, READINESS_CONFIG=app
    ) as bots:
        yield bots


def sign(fake: FakeSlackThread, bot: Bot, name: str, role: str, user: str) -> bool:
    """Open the Sign modal and submit it on BOT; True when the submission was acknowledged
    as accepted (HTTP 200, no errors), False when BOT could not be reached."""
    card = next(m for m in fake.messages(CHANNEL) if m.text.startswith(f"{name}:"))
    with SlackDriver(bot.events_url, SECRET, fake) as driver:
        try:
            before = len(fake.views(user))
            if driver.click(user, card, f"sign:{role}").status_code != 200:
                return False
            view = fake.wait_for(lambda s: s.views(user)[before:] and s.views(user)[-1], 15)
            options = [
                o["value"]
                for b in view.blocks
                if b.get("block_id") == "attestations"
                for o in b["element"]["options"]
            ]
            done = driver.submit(user, view, {"attestations": options}, enforce_required=False)
        except (httpx.HTTPError, TimeoutError):
            return False
    return done.status_code == 200 and not done.text


def test_sign_offs_on_any_replica_survive_one_killed_mid_burst(
    fake: FakeSlackThread, replicas: list[Bot]
) -> None:
    spread = itertools.cycle(replicas)
    for name in RELEASES:
        with SlackDriver(next(spread).events_url, SECRET, fake) as driver:
            assert driver.command("UREL", f"new {name}", channel=CHANNEL).status_code == 200
    fake.wait_for(
        lambda s: (
            all(any(m.text.startswith(f"{n}:") for m in s.messages(CHANNEL)) for n in RELEASES)
            or None
        ),
        timeout=30,
    )
    acknowledged: list[tuple[str, str, str]] = []
    lock, count = threading.Lock(), itertools.count()
    victim = replicas[2]

    def signer(role: str, user: str) -> None:
        """One person signs each release in turn (their modals one at a time), each
        request to the next replica, as a load balancer spreads them."""
        for name in RELEASES:
            n = next(count)
            if n == 15:
                victim.kill()  # kill -9, mid-burst
            alive = [b for b in replicas if b.process is not None and b.process.poll() is None]
            bot = replicas[n % 3] if n < 15 else alive[n % len(alive)]
            if sign(fake, bot, name, role, user):
                with lock:
                    acknowledged.append((name, role, user))

    with ThreadPoolExecutor(len(SIGNERS)) as pool:
        list(pool.map(lambda pair: signer(*pair), SIGNERS.items()))
    assert len(acknowledged) >= 30, acknowledged  # the dead replica's share may be lost
    url = replicas[0].env["DATABASE_URL"]
    live = sql(
        url,
        "SELECT r.name, s.role_id, s.user_id FROM signatures s JOIN releases r "
        "ON r.id = s.release_id WHERE s.withdrawn_at IS NULL",
    )
    held = [tuple(row) for row in live]
    assert set(acknowledged) <= set(held)  # nothing acknowledged is lost
    assert len(held) == len(set(held))  # nothing doubled
    assert len({(n, r) for n, r, _ in held}) == len(held)  # one live signature per slot
    added = sql(url, "SELECT count(*) FROM audit_events WHERE kind = 'signature.added'")
    assert added[0][0] == len(held)
    verified = replicas[0].cli("audit", "verify")
    assert verified.returncode == 0, verified.stdout + verified.stderr

    # Every card shows every signature (one sender per channel, views read after locks).
    def complete(s: Any) -> bool | None:
        cards = {m.text.split(":")[0]: text_of(m.blocks) for m in s.messages(CHANNEL)}
        return all(f"<@{u}>" in cards.get(n, "") for n, _, u in held) or None

    try:
        fake.wait_for(complete, timeout=60)
    except TimeoutError:
        cards = {m.text.split(":")[0]: text_of(m.blocks) for m in fake.messages(CHANNEL)}
        missing = [(n, u) for n, _, u in held if f"<@{u}>" not in cards.get(n, "")]
        logs = "\n".join(f"--- {b.log_path} ---\n{b.log()[-3000:]}" for b in replicas)
        versions = sql(url, "SELECT name, card_version, card_sent_version FROM releases")
        leases = sql(url, "SELECT channel, holder, until, now() FROM channel_leases")
        said = f"cards never showed {missing}\n{versions}\n{leases}\n{logs}"
        raise AssertionError(said) from None


def test_a_request_replayed_to_another_replica_is_refused(
    fake: FakeSlackThread, replicas: list[Bot]
) -> None:
    alive = [b for b in replicas if b.process is not None and b.process.poll() is None]
    first, second = alive[0], alive[1]
    body = payloads.slash_command(
        "UREL",
        "list",
        channel_id=CHANNEL,
        response_url=fake.new_response_url(CHANNEL, "UREL"),
    )
    headers = {"Content-Type": payloads.FORM, **payloads.sign(SECRET, body)}
    assert httpx.post(first.events_url, content=body, headers=headers).status_code == 200
    again = httpx.post(second.events_url, content=body, headers=headers)
    assert again.status_code == 401 and "replayed" in again.text
