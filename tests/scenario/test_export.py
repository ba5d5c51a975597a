"""Export over HTTP: a release opened and approved in Slack, then `readiness export` (the
CLI on the bot's database) and `/readiness export` (a file in the card's thread)."""

from __future__ import annotations

import json
import re
from typing import Any

from bot.fake_slack import FakeSlackThread
from tests.scenario.conftest import Slack, approve_all_but_final
from tests.scenario.harness import CHANNEL, ROLES, USERS, Bot
from tests.unit.test_export import SEED_HEADINGS

COMMENT = "Ship it </div> **now**"


def approved(slack: Slack, name: str) -> None:
    slack.command("UREL", f"new {name} ref=abc123")
    slack.checks_done(name)
    approve_all_but_final(slack, name)
    response = slack.sign("UCTO", name, "cto", comment=COMMENT)
    assert response.status_code == 200 and not response.text, response.text
    slack.wait_card(name, "Approved for production deployment")


def rows(bot: Bot, sql: str, **params: Any) -> list[tuple[Any, ...]]:
    return [tuple(row) for row in bot.sql(sql, **params)]


def assert_headings(markdown: str) -> None:
    lines = [line.removesuffix(" ✅") for line in markdown.splitlines()]
    missing = [h for h in SEED_HEADINGS if h not in lines]
    assert not missing, missing


def test_the_cli_export_matches_the_database(slack: Slack, bot: Bot, name: str) -> None:
    approved(slack, name)
    done = bot.cli("export", *name.split(), "--format", "json")
    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)
    release_id = data["release"]["id"]
    assert (data["release"]["name"], data["release"]["state"]) == (name, "approved")
    assert data["authorization"]["approved"] is True

    signed = rows(
        bot,
        "SELECT role_id, user_id, attestations, comment FROM signatures "
        "WHERE release_id = :id AND withdrawn_at IS NULL ORDER BY id",
        id=release_id,
    )
    exported = [
        (s["role"], s["user"], s["attestations"], s["comment"])
        for role in data["signoff"]["roles"]
        for s in role["signatures"]
    ]
    assert sorted(exported) == sorted((r, u, json.loads(a), c) for r, u, a, c in signed)
    assert {s[1] for s in signed} == set(ROLES.values())

    latest = dict(
        rows(
            bot,
            "SELECT item_id, status FROM check_results WHERE id IN (SELECT max(id) "
            "FROM check_results WHERE release_id = :id GROUP BY item_id)",
            id=release_id,
        )
    )
    ticked = dict(rows(bot, "SELECT item_id, user_id FROM item_ticks WHERE release_id = :id",
                       id=release_id))  # fmt: skip
    items = [i for s in data["sections"] for i in s["items"]]
    assert items and all(i["status"] == "pass" for i in items)
    for item in items:
        if item["automated"]:
            assert latest[item["id"]] == item["status"], item
        else:
            assert item["ticked_by"]["user"] == ticked[item["id"]], item

    verified = bot.cli("audit", "verify")
    assert verified.returncode == 0, verified.stderr
    head = re.search(r"head ([0-9a-f]{64})", verified.stdout)
    assert head is not None and data["audit"]["head"] == head.group(1)
    assert data["audit"]["verified"] is True

    markdown = bot.cli("export", *name.split())
    assert markdown.returncode == 0, markdown.stderr
    assert_headings(markdown.stdout)
    for user in ROLES.values():
        assert f"- **Name:** `{user}`" in markdown.stdout
    assert "> Ship it \\</div> \\*\\*now\\*\\*" in markdown.stdout
    assert f"`{data['audit']['head']}`" in markdown.stdout

    unknown = bot.cli("export", "NOPE", "9")
    assert unknown.returncode == 2 and "There is no release named “NOPE 9”" in unknown.stderr


def test_slash_export_uploads_the_document_to_the_cards_thread(
    slack: Slack, fake: FakeSlackThread, name: str
) -> None:
    approved(slack, name)
    card = slack.card(name)
    before = len(fake.files())
    reply = slack.command("UREL", f"export {name}")
    assert f"Uploaded the sign-off document of *{name}*" in reply

    (upload,) = fake.files()[before:]
    assert (upload.channel, upload.thread_ts, upload.completed) == (CHANNEL, card.ts, True)
    assert upload.filename == name.replace(" ", "-") + "-signoff.md"
    content = (upload.data or b"").decode()
    assert_headings(content)
    for role, user in ROLES.items():
        assert f"- **Name:** {USERS[user]} (`{user}`)" in content, role
    assert "**Approved for Production Deployment:** ☑ Yes ☐ No" in content
    shared = slack.wait_thread(name, "exported the sign-off")
    assert any(f"<@UREL> exported the sign-off of *{name}*" in t for t in shared)


def test_slack_refusing_the_upload_is_said_privately(
    slack: Slack, fake: FakeSlackThread, name: str
) -> None:
    slack.command("UREL", f"new {name}")
    slack.card(name)
    slack.checks_done(name)
    fake.fail("files.getUploadURLExternal", status=200, error="missing_scope")
    reply = slack.command("UREL", f"export {name}")
    assert f"Slack refused the sign-off document of *{name}* (`missing_scope`)" in reply
    assert "There is no release named" in slack.command("UREL", "export NOPE 9")
