"""Scenario fixtures: a fake Slack, a LUMINES target and the real bot over HTTP."""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

from bot.fake_slack import FakeSlackThread, SlackDriver
from bot.slack import ids
from tests.databases import Databases
from tests.scenario.harness import CHANNEL, SECRET, USERS, Bot, ThreadedTarget, text_of

_names = itertools.count(1)


class Slack:
    """A person's view of the workspace: type commands, click, submit; read what came back."""

    def __init__(self, fake: FakeSlackThread, bot: Bot) -> None:
        self.fake, self.bot = fake, bot
        self.driver = SlackDriver(bot.events_url, SECRET, fake)

    def rebind(self, bot: Bot) -> None:
        self.driver.close()
        self.bot = bot
        self.driver = SlackDriver(bot.events_url, SECRET, self.fake)

    def checks_done(self, name: str) -> None:
        """Wait until the release's check runs have all finished (read from the database)."""
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            (running,) = self.bot.sql(
                "SELECT count(*) FROM check_runs JOIN releases ON releases.id = release_id "
                "WHERE releases.name = :name AND finished_at IS NULL",
                name=name,
            )[0]
            if not running:
                return
            time.sleep(0.05)
        raise AssertionError(f"checks of {name} still running")

    def command(self, user: str, text: str) -> str:
        """Run /readiness TEXT as USER; returns the private reply's text."""
        before = len(self.fake.responses())
        response = self.driver.command(user, text, channel=CHANNEL)
        assert response.status_code == 200, response.text
        reply = self.fake.wait_for(lambda s: s.responses()[before:] or None, timeout=15)
        return "\n".join(r.text + "\n" + text_of(r.blocks) for r in reply)

    def card(self, name: str) -> Any:
        return self.fake.wait_for(
            lambda s: next((m for m in s.messages(CHANNEL) if m.text.startswith(f"{name}:")), None),
            timeout=15,
        )

    def card_text(self, name: str) -> str:
        return text_of(self.card(name).blocks)

    def wait_card(self, name: str, *needles: str, timeout: float = 20) -> str:
        def ready(s: Any) -> str | None:
            for m in s.messages(CHANNEL):
                if m.text.startswith(f"{name}:"):
                    text = text_of(m.blocks)
                    if all(n in text for n in needles) and "Running checks" not in text:
                        return text
            return None

        try:
            return self.fake.wait_for(ready, timeout=timeout)
        except TimeoutError:
            raise AssertionError(
                f"card never showed {needles}:\n{self.card_text(name)}"
                f"\n--- bot log ---\n{self.bot.log()[-3000:]}"
            ) from None

    def thread(self, name: str) -> list[str]:
        return [m.text for m in self.fake.thread(CHANNEL, self.card(name).ts)]

    def wait_thread(self, name: str, needle: str) -> list[str]:
        ts = self.card(name).ts

        def found(s: Any) -> list[str] | None:
            texts = [m.text for m in s.thread(CHANNEL, ts)]
            return texts if any(needle in t for t in texts) else None

        return self.fake.wait_for(found, timeout=15)

    def click(
        self, user: str, name: str, action_id: str, value: str | None = None, message: Any = None
    ) -> httpx.Response:
        response = self.driver.click(
            user, message or self.card(name), action_id, value=value, channel=CHANNEL
        )
        assert response.status_code == 200, response.text
        return response

    def open_modal(
        self, user: str, name: str, action_id: str, message: Any = None, value: str | None = None
    ) -> Any:
        before = len(self.fake.views(user))
        self.click(user, name, action_id, value=value, message=message)
        return self.fake.wait_for(
            lambda s: s.views(user)[before:] and s.views(user)[-1], timeout=15
        )

    def answer(self, user: str, ask: Callable[[], object], action_id: str = ids.CONFIRM) -> str:
        """Do ASK, which puts a private question to USER; click ACTION_ID in it (the red
        button, or ids.KEEP); returns what was said in the question's place."""
        before = len(self.fake.responses())
        ask()
        question = self.fake.wait_for(
            lambda s: s.responses()[before:] and s.responses()[-1], timeout=15
        )
        asked = len(self.fake.responses())
        response = self.driver.click(user, question, action_id, channel=CHANNEL)
        assert response.status_code == 200, response.text
        said = self.fake.wait_for(lambda s: s.responses()[asked:] and s.responses()[-1], timeout=15)
        assert said.body.get("replace_original") is True
        return str(said.text)

    def refusal(self, user: str, action: Any) -> str:
        """Do ACTION; return the private message USER got back."""
        before = len(self.fake.responses()) + len(self.fake.ephemerals(user))
        action()
        got = self.fake.wait_for(
            lambda s: (
                [r.text for r in s.responses()] + [e.text for e in s.ephemerals(user)]
                if len(s.responses()) + len(s.ephemerals(user)) > before
                else None
            ),
            timeout=15,
        )
        return got[-1] if len(self.fake.ephemerals(user)) <= 0 else "\n".join(got)

    def sign(
        self,
        user: str,
        name: str,
        role: str,
        ticks: list[str] | None = None,
        comment: str | None = None,
        message: Any = None,
        plan: dict[str, Any] | None = None,
    ) -> httpx.Response:
        """Sign as ROLE. The final approval's section 10 fields (window, team, rollback
        plan) keep what the modal prefilled, else get a valid default; `plan` overrides."""
        view = self.open_modal(user, name, f"sign:{role}", message=message)
        assert view.callback_id == "sign_view", view.all_text()
        options = [
            o["value"]
            for b in view.blocks
            if b.get("block_id") == "attestations"
            for o in b["element"]["options"]
        ]
        values: dict[str, Any] = {"attestations": options if ticks is None else ticks}
        if comment:
            values["comment"] = comment
        values.update(section_10_defaults(view.blocks, user))
        values.update(plan or {})
        return self.driver.submit(user, view, values, enforce_required=False)

    def tick_own_items(self, user: str, name: str) -> httpx.Response:
        """Open the Checklist and tick every manual item USER may tick: its first page
        holds them, the only checkboxes it shows."""
        view = self.open_modal(user, name, "checklist")
        values: dict[str, list[str]] = {}
        for block in view.blocks:
            if str(block.get("block_id", "")).startswith("manual:"):
                (element,) = block["elements"]
                values[block["block_id"]] = [o["value"] for o in element["options"]]
        return self.driver.submit(user, view, values, enforce_required=False)


def section_10_defaults(blocks: list[dict[str, Any]], user: str) -> dict[str, Any]:
    """For the final approver's inputs the modal left empty: a window from now for two
    hours, the signer as the team, a one-line rollback plan."""
    now = int(time.time())
    defaults = {
        "window_start": ("initial_date_time", now),
        "window_end": ("initial_date_time", now + 7200),
        "deploy_team": ("initial_users", [user]),
        "rollback_plan": ("initial_value", "helm rollback lumines"),
    }
    values: dict[str, Any] = {}
    for block in blocks:
        default = defaults.get(str(block.get("block_id")))
        if default is not None and not block["element"].get(default[0]):
            values[str(block["block_id"])] = default[1]
    return values


@pytest.fixture(scope="module")
def fake() -> Iterator[FakeSlackThread]:
    with FakeSlackThread() as thread:
        thread.add_channel(CHANNEL, "releases")
        for user_id, name in USERS.items():
            thread.add_user(user_id, name)
        thread.add_usergroup("SPRODUCT", ["UGROUP"], handle="product")
        yield thread


@pytest.fixture(scope="module")
def target() -> Iterator[ThreadedTarget]:
    served = ThreadedTarget().start()
    yield served
    served.stop()


@pytest.fixture(scope="module")
def bot(
    fake: FakeSlackThread,
    target: ThreadedTarget,
    module_databases: Databases,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Bot]:
    tmp = tmp_path_factory.mktemp("bot")
    running = Bot(fake, target, tmp, module_databases.url(tmp)).start()
    yield running
    running.stop()


@pytest.fixture
def slack(fake: FakeSlackThread, bot: Bot) -> Iterator[Slack]:
    person = Slack(fake, bot)
    yield person
    person.driver.close()


@pytest.fixture
def name() -> str:
    """A fresh release name per test (the bot is shared by the module)."""
    return f"LUMINES 1.0.{next(_names)}"


def approve_all_but_final(slack: Slack, name: str) -> None:
    for user in ("UENG", "UOPS", "USEC", "UPRD", "UCTO"):
        assert slack.tick_own_items(user, name).status_code == 200
    slack.wait_card(name, "Readiness 100%")
    for role, user in (
        ("engineering_lead", "UENG"),
        ("devops_lead", "UOPS"),
        ("security_lead", "USEC"),
        ("product_owner", "UPRD"),
    ):
        response = slack.sign(user, name, role)
        assert response.status_code == 200 and not response.text, response.text


@pytest.fixture
def api(bot: Bot) -> Iterator[httpx.Client]:
    """An HTTP client of the bot's API, with its READINESS_API_TOKEN (a module's `bot`
    fixture gives one)."""
    token = bot.env["READINESS_API_TOKEN"]
    with httpx.Client(
        base_url=bot.url, headers={"Authorization": f"Bearer {token}"}, timeout=15
    ) as client:
        yield client
