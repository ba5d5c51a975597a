"""Many products, one bot: a directory with `_base.yaml` (the seed checklist and roles) and
two products in two channels, with different people in their roles, served by the real
bot over HTTP."""

from __future__ import annotations

import json
import signal
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from bot.fake_slack import FakeSlackThread, SlackDriver
from tests.databases import Databases
from tests.scenario.harness import ROOT, SECRET, USERS, Bot, ThreadedTarget, text_of

LUMINES, PAYMENTS, ELSEWHERE = "CLUMINES", "CPAYMENTS", "CGENERAL"
TOKEN = "products-api-token"
PAYMENTS_PEOPLE = {
    "engineering_lead": "UPENG",
    "devops_lead": "UPOPS",
    "security_lead": "UPSEC",
    "cto": "UPCTO",
}


def write_products(root: Path) -> Path:
    """`_base.yaml` from the shipped app.yaml; LUMINES with it whole, Payments smaller and
    with its own people (and no Product Owner)."""
    root.mkdir()
    base = yaml.safe_load((ROOT / "app.yaml").read_text())
    for key in ("product", "channel", "checks"):
        base.pop(key, None)
    base["schedules"].pop("tick", None)
    base["schedules"].update(recheck=None, reminder=None)  # as scenario_config
    (root / "_base.yaml").write_text(yaml.safe_dump(base, sort_keys=False))
    (root / "_settings.yaml").write_text(
        "slack: {card_update_interval: 200ms, post_interval: 20ms}\n"
    )
    (root / "lumines.yaml").write_text(
        f"extends: _base.yaml\nproduct: LUMINES/WIS2L\nchannel: {LUMINES}\n"
    )
    keep = {"application", "security"}
    roles: dict[str, Any] = {
        role_id: {**base["roles"][role_id], "members": [user], "usergroups": []}
        for role_id, user in PAYMENTS_PEOPLE.items()
    }
    roles["product_owner"] = {"remove": True}
    roles["engineering_lead"]["members"].append("UENG2")  # an Engineering Lead of both
    sections: list[dict[str, Any]] = [
        {"id": s["id"], "remove": True} for s in base["sections"] if s["id"] not in keep
    ]
    payments = {
        "extends": "_base.yaml",
        "product": "Payments",
        "channels": [PAYMENTS],
        "roles": roles,
        "sections": sections,
        "post_deploy": {"phases": base["post_deploy"]["phases"]},
    }
    (root / "payments.yaml").write_text(yaml.safe_dump(payments, sort_keys=False))
    return root


def app_yaml_items_without_owner(root: Path) -> None:
    """Payments drops the Product Owner: its kept sections must not name that role."""
    for name in ("application", "security"):
        for section in yaml.safe_load((root / "_base.yaml").read_text())["sections"]:
            if section["id"] == name:
                assert all(i.get("owner") != "product_owner" for i in section["items"])


@pytest.fixture(scope="module")
def fake() -> Iterator[FakeSlackThread]:
    with FakeSlackThread() as thread:
        for channel, label in (
            (LUMINES, "lumines"),
            (PAYMENTS, "payments"),
            (ELSEWHERE, "general"),
        ):
            thread.add_channel(channel, label)
        for user_id, name in {
            **USERS,
            **{u: f"pay.{r}" for r, u in PAYMENTS_PEOPLE.items()},
        }.items():
            thread.add_user(user_id, name)
        thread.add_usergroup("SPRODUCT", ["UGROUP"], handle="product")  # the harness's
        yield thread


@pytest.fixture(scope="module")
def products(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = write_products(tmp_path_factory.mktemp("config") / "products")
    app_yaml_items_without_owner(root)
    return root


@pytest.fixture(scope="module")
def bot(
    fake: FakeSlackThread,
    target: ThreadedTarget,
    products: Path,
    module_databases: Databases,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Bot]:
    tmp = tmp_path_factory.mktemp("bot")
    running = Bot(
        fake,
        target,
        tmp,
        module_databases.url(tmp),
        READINESS_CONFIG=str(products),
        READINESS_API_TOKEN=TOKEN,
    ).start()
    yield running
    running.stop()


@pytest.fixture
def driver(fake: FakeSlackThread, bot: Bot) -> Iterator[SlackDriver]:
    person = SlackDriver(bot.events_url, SECRET, fake)
    yield person
    person.close()


def say(fake: FakeSlackThread, driver: SlackDriver, user: str, text: str, channel: str) -> str:
    """/readiness TEXT as USER in CHANNEL; the private reply's text."""
    before = len(fake.responses())
    assert driver.command(user, text, channel=channel).status_code == 200
    reply = fake.wait_for(lambda s: s.responses()[before:] or None, timeout=15)
    return "\n".join(r.text + "\n" + text_of(r.blocks) for r in reply)


def card(fake: FakeSlackThread, channel: str, name: str, *needles: str) -> Any:
    def ready(s: Any) -> Any:
        for m in s.messages(channel):
            if m.text.startswith(f"{name}:") and all(n in text_of(m.blocks) for n in needles):
                return m
        return None

    return fake.wait_for(ready, timeout=20)


def gate(bot: Bot, name: str, product: str | None = None) -> httpx.Response:
    return bot.release_api(name, "/gate", **({"product": product} if product else {}))


def test_each_channel_opens_a_release_of_its_own_product(
    fake: FakeSlackThread, driver: SlackDriver, bot: Bot
) -> None:
    name = "SHARED 1.0.0"
    said = say(fake, driver, "UREL", f"new {name}", LUMINES)
    assert "Opened *SHARED 1.0.0* of LUMINES/WIS2L" in said, said
    said = say(fake, driver, "UREL", f"new {name}", PAYMENTS)
    assert "Opened *SHARED 1.0.0* of Payments" in said, said
    lumines = text_of(card(fake, LUMINES, name, "LUMINES/WIS2L").blocks)
    payments = text_of(card(fake, PAYMENTS, name, "Payments").blocks)
    assert "Infrastructure Readiness" in lumines
    assert "Infrastructure Readiness" not in payments  # removed by payments.yaml
    assert "Security Readiness" in payments and "Testing Readiness" not in payments
    assert "Product Owner" in lumines and "Product Owner" not in payments

    # The same name in both: each asked by product; without one, the API says which exist.
    for product in ("lumines", "payments"):
        answer = gate(bot, name, product)
        assert answer.status_code == 409 and answer.json()["product"] == product, answer.text
    ambiguous = gate(bot, name)
    assert ambiguous.status_code == 400
    assert ambiguous.json()["products"] == ["lumines", "payments"]
    assert gate(bot, name, "nosuch").status_code == 404

    # status in a channel answers for the channel's product.
    assert "Payments" in say(fake, driver, "UREL", f"status {name}", PAYMENTS)
    assert "several products" in say(fake, driver, "UREL", f"status {name}", ELSEWHERE)
    assert "Payments" in say(fake, driver, "UREL", f"status {name} product=payments", ELSEWHERE)


def test_a_role_is_held_per_product(fake: FakeSlackThread, driver: SlackDriver, bot: Bot) -> None:
    name = "ROLES 1.0.0"
    say(fake, driver, "UREL", f"new {name}", PAYMENTS)
    message = card(fake, PAYMENTS, name, "Payments")
    before = len(fake.ephemerals("USEC")) + len(fake.responses())
    # USEC is LUMINES's Security Lead, not Payments's.
    assert driver.click("USEC", message, "sign:security_lead", channel=PAYMENTS).status_code == 200
    refusal = fake.wait_for(
        lambda s: (
            [e.text for e in s.ephemerals("USEC")] + [r.text for r in s.responses()]
            if len(s.ephemerals("USEC")) + len(s.responses()) > before
            else None
        ),
        timeout=15,
    )
    assert any("not an approver for Security Lead on the Payments checklist" in t for t in refusal)
    assert not fake.views("USEC")
    # Payments's own Security Lead gets the form.
    assert driver.click("UPSEC", message, "sign:security_lead", channel=PAYMENTS).status_code == 200
    view = fake.wait_for(lambda s: s.views("UPSEC") and s.views("UPSEC")[-1], timeout=15)
    assert view.callback_id == "sign_view"


def test_app_home_groups_what_waits_for_me_by_product(
    fake: FakeSlackThread, driver: SlackDriver, bot: Bot
) -> None:
    for channel in (PAYMENTS, LUMINES):
        say(fake, driver, "UREL", f"new HOME {channel}", channel)
    published = len(fake.calls("views.publish"))
    assert driver.open_home("UENG2").status_code == 200

    def shown(s: Any) -> Any:
        home = s.home("UENG2")
        text = home.all_text() if home is not None else ""
        fresh = len(s.calls("views.publish")) > published
        return home if fresh and f"HOME {LUMINES}" in text and f"HOME {PAYMENTS}" in text else None

    text = fake.wait_for(shown, timeout=15).all_text()
    waiting = text[: text.index("Open releases")]
    lumines, payments = waiting.index("LUMINES/WIS2L"), waiting.index("Payments")
    assert lumines < waiting.index(f"HOME {LUMINES}") < payments < waiting.index(f"HOME {PAYMENTS}")


def test_where_no_product_claims_the_channel_the_product_is_named(
    fake: FakeSlackThread, driver: SlackDriver, bot: Bot
) -> None:
    asked = say(fake, driver, "UREL", "new", ELSEWHERE)
    assert "belongs to no product" in asked and "`payments`" in asked and "`lumines`" in asked
    refused = say(fake, driver, "UREL", "new ELSE 1.0.0", ELSEWHERE)
    assert "belongs to no product" in refused
    opened = say(fake, driver, "UREL", "new payments ELSE 2.0.0", ELSEWHERE)
    assert "of Payments" in opened and f"<#{PAYMENTS}>" in opened, opened
    card(fake, PAYMENTS, "ELSE 2.0.0", "Payments")  # in the product's own channel
    opened = say(fake, driver, "UREL", "new ELSE 3.0.0 product=lumines", ELSEWHERE)
    assert "of LUMINES/WIS2L" in opened
    assert "no product" in say(fake, driver, "UREL", "new X 1 product=nosuch", ELSEWHERE)


def test_list_shows_the_channel_s_product_and_all_groups_them(
    fake: FakeSlackThread, driver: SlackDriver, bot: Bot
) -> None:
    say(fake, driver, "UREL", "new LISTED 1.0.0", LUMINES)
    say(fake, driver, "UREL", "new LISTED 2.0.0", PAYMENTS)
    mine = say(fake, driver, "UREL", "list", PAYMENTS)
    assert "LISTED 2.0.0" in mine and "LISTED 1.0.0" not in mine
    assert "Open releases of Payments" in mine
    every = say(fake, driver, "UREL", "list all", PAYMENTS)
    assert "Open releases of every product" in every
    at_lumines, at_payments = every.index("*LUMINES/WIS2L*"), every.index("*Payments*")
    assert at_lumines < every.index("LISTED 1.0.0") < at_payments < every.index("LISTED 2.0.0")


def test_metrics_label_releases_by_product(bot: Bot, fake: FakeSlackThread) -> None:
    body = httpx.get(f"{bot.url}/metrics", timeout=10).text
    assert 'readiness_releases{product="payments",state="open"}' in body
    assert 'readiness_releases{product="lumines",state="open"}' in body


def test_a_reload_applies_per_product_and_a_broken_one_keeps_the_running_config(
    fake: FakeSlackThread, driver: SlackDriver, bot: Bot, products: Path
) -> None:
    name = "RELOAD 1.0.0"
    for channel, user in ((LUMINES, "UENG"), (PAYMENTS, "UPENG")):
        say(fake, driver, "UREL", f"new {name}", channel)
        signed = sign(fake, driver, user, card(fake, channel, name), channel)
        assert signed.status_code == 200 and not signed.text, signed.text
        card(fake, channel, name, f"*Engineering Lead*: :white_check_mark: <@{user}>")
    assert httpx.get(f"{bot.url}/healthz", timeout=5).json() == {"ok": True}
    good = (products / "payments.yaml").read_text()
    assert bot.process is not None
    (products / "payments.yaml").write_text(good + "checks: {concurrency: 3}\n")
    bot.process.send_signal(signal.SIGHUP)
    health = wait_health(bot, "stale")
    assert any("payments.yaml: checks.concurrency" in p for p in health["config_problems"])
    assert gate(bot, name, "payments").status_code == 409  # still served, as before
    # Payments gains a section: its checklist changed, LUMINES's did not.
    extra = {"id": "extra", "title": "Payments extra", "items": [{"id": "px", "title": "PX"}]}
    changed = yaml.safe_load(good)
    changed["product"] = "Pay"
    changed["sections"].append(extra)
    (products / "payments.yaml").write_text(yaml.safe_dump(changed, sort_keys=False))
    bot.process.send_signal(signal.SIGHUP)
    wait_health(bot, "current")
    stale = card(fake, PAYMENTS, name, "Payments extra", "Pay ·")
    assert "*Engineering Lead*: :white_check_mark:" not in text_of(stale.blocks)
    told = fake.wait_for(
        lambda s: (
            [m.text for m in s.thread(PAYMENTS, stale.ts) if "checklist changed" in m.text] or None
        ),
        timeout=15,
    )
    assert "<@UPENG>" in told[0]
    lumines = card(fake, LUMINES, name)
    assert "*Engineering Lead*: :white_check_mark: <@UENG>" in text_of(lumines.blocks)
    assert not [m for m in fake.thread(LUMINES, lumines.ts) if "checklist changed" in m.text]
    (products / "payments.yaml").write_text(good)
    bot.process.send_signal(signal.SIGHUP)
    card(fake, PAYMENTS, name, "Payments ·")


def sign(
    fake: FakeSlackThread, driver: SlackDriver, user: str, message: Any, channel: str
) -> httpx.Response:
    """Sign as Engineering Lead with every attestation ticked."""
    before = len(fake.views(user))
    assert driver.click(user, message, "sign:engineering_lead", channel=channel).status_code == 200
    view = fake.wait_for(lambda s: s.views(user)[before:] and s.views(user)[-1], timeout=15)
    options = [
        o["value"]
        for b in view.blocks
        if b.get("block_id") == "attestations"
        for o in b["element"]["options"]
    ]
    return driver.submit(user, view, {"attestations": options}, enforce_required=False)


def wait_health(bot: Bot, config: str) -> dict[str, Any]:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        health: dict[str, Any] = httpx.get(f"{bot.url}/healthz", timeout=5).json()
        if health.get("config", "current") == config:
            return health
        time.sleep(0.1)
    raise AssertionError(f"/healthz never said config {config}: {health}\n{bot.log()[-2000:]}")


def test_the_command_line_takes_a_product(
    fake: FakeSlackThread, driver: SlackDriver, bot: Bot
) -> None:
    name = "CLI 1.0.0"
    for channel in (LUMINES, PAYMENTS):
        say(fake, driver, "UREL", f"new {name}", channel)
        card(fake, channel, name)
    ask = ("gate", *name.split(), "--url", bot.url, "--token", TOKEN)
    several = bot.cli(*ask)
    assert several.returncode == 2
    assert "--product: one of lumines, payments" in several.stderr
    one = bot.cli(*ask, "--product", "payments")
    assert one.returncode == 1 and f"{name} is not approved" in one.stdout, one.stderr
    exported = bot.cli("export", *name.split(), "--product", "payments", "--format", "json")
    assert exported.returncode == 0, exported.stderr
    document = json.loads(exported.stdout)
    assert (document["product"], document["product_id"]) == ("Payments", "payments")
    assert bot.cli("export", *name.split()).returncode == 2


def test_check_without_a_release_checks_every_product(bot: Bot, target: ThreadedTarget) -> None:
    both = bot.cli("check")
    assert both.returncode == 0, both.stdout
    assert "LUMINES/WIS2L (lumines)" in both.stdout and "Payments (payments)" in both.stdout
    target.state.broken.add("db")  # what only LUMINES checks
    try:
        one_fails = bot.cli("check")
        assert one_fails.returncode == 1
        payments = bot.cli("check", "--product", "payments", "--json")
        assert payments.returncode == 0
    finally:
        target.state.broken.discard("db")
    sections = {item["section"] for item in json.loads(payments.stdout)["items"]}
    assert sections == {"application", "security"}
    missing = bot.cli("check", "--section", "infrastructure")
    assert missing.returncode == 2
    assert "no section 'infrastructure' of payments" in missing.stderr


def test_a_product_taken_out_waits_and_the_others_go_on(
    fake: FakeSlackThread, driver: SlackDriver, bot: Bot, products: Path
) -> None:
    say(fake, driver, "UREL", "new GONE 1.0.0", PAYMENTS)
    card(fake, PAYMENTS, "GONE 1.0.0", "Payments")
    kept = products / "payments.yaml"
    aside = products.parent / "payments.yaml.aside"
    kept.rename(aside)
    assert bot.process is not None
    try:
        bot.process.send_signal(signal.SIGHUP)
        deadline = time.monotonic() + 10
        while "payments" in gate(bot, "GONE 1.0.0").text and time.monotonic() < deadline:
            time.sleep(0.1)
        assert gate(bot, "GONE 1.0.0", "payments").status_code == 404
        gone = gate(bot, "GONE 1.0.0").json()["error"]
        assert "The product payments is no longer configured" in gone, gone
        assert "release(s) of product 'payments' wait: it is no longer configured" in bot.log()
        said = say(fake, driver, "UREL", "status GONE 1.0.0", PAYMENTS)
        assert "The product `payments` is no longer configured" in said, said
        # LUMINES is served as before: a release opens, checks, and its card is posted.
        say(fake, driver, "UREL", "new AFTER 1.0.0", LUMINES)
        card(fake, LUMINES, "AFTER 1.0.0", "Readiness")
    finally:
        aside.rename(kept)
        bot.process.send_signal(signal.SIGHUP)
    deadline = time.monotonic() + 10
    while gate(bot, "GONE 1.0.0", "payments").status_code != 409 and time.monotonic() < deadline:
        time.sleep(0.1)
    assert gate(bot, "GONE 1.0.0", "payments").status_code == 409
