"""More releases than one reply holds: `/readiness list` pages through every one of them,
and the Home tab counts as many as the list does."""

from __future__ import annotations

import re

from bot.fake_slack import Response
from bot.slack import ids
from tests.scenario.conftest import Slack
from tests.scenario.harness import CHANNEL

CHECKS = False  # every item manual: forty releases open without 2,400 checks
RELEASES = [f"LIST {n}" for n in range(1, 41)]


def test_forty_open_releases_are_all_listed_page_by_page_and_home_agrees(slack: Slack) -> None:
    fake = slack.fake
    before = len(fake.responses())
    for name in RELEASES:
        assert slack.driver.command("UREL", f"new {name}", channel=CHANNEL).status_code == 200
    fake.wait_for(lambda f: len(f.responses()) >= before + len(RELEASES) or None, timeout=60)

    seen: list[str] = []
    asked = len(fake.responses())
    assert slack.driver.command("UREL", "list", channel=CHANNEL).status_code == 200
    reply = _reply_after(slack, asked)
    total = int(re.search(r"(\d+) in all", _text(reply)).group(1))  # type: ignore[union-attr]
    assert total >= len(RELEASES)
    for _ in range(10):
        seen += re.findall(r"\*(LIST \d+)\*", _text(reply))
        older = [
            e
            for b in reply.blocks
            if b["type"] == "actions"
            for e in b["elements"]
            if e["action_id"] == ids.LIST_OLDER
        ]
        if not older:
            break
        asked = len(fake.responses())
        click = slack.driver.click("UREL", reply, ids.LIST_OLDER, value=older[0]["value"])
        assert click.status_code == 200
        reply = _reply_after(slack, asked)
        assert reply.body.get("replace_original") is True  # the page replaces the last one
    assert sorted(set(seen) & set(RELEASES)) == sorted(RELEASES)  # every one, once reached
    assert len(seen) == len(set(seen))  # and none twice

    views = len(fake.views("UOPS"))
    assert slack.driver.open_home("UOPS").status_code == 200
    home = fake.wait_for(lambda f: len(f.views("UOPS")) > views and f.views("UOPS")[-1], timeout=15)
    assert f"*Open releases* · {total} in all" in home.all_text()
    assert f"…and {total - 20} more: `/readiness list` shows them all" in home.all_text()


def _text(reply: object) -> str:
    return "\n".join(str(b.get("text", {}).get("text", "")) for b in getattr(reply, "blocks", []))


def _reply_after(slack: Slack, asked: int) -> Response:
    found: Response = slack.fake.wait_for(
        lambda f: f.responses()[asked:] and f.responses()[-1], timeout=15
    )
    return found
