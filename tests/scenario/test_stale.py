"""Evidence-bound signatures over HTTP: a new ref or a changed checklist makes the
signatures given on the old evidence stale; they must be given again."""

from __future__ import annotations

from pathlib import Path

from bot.fake_slack import FakeSlackThread
from tests.scenario.conftest import Slack, approve_all_but_final
from tests.scenario.harness import Bot


def live_signatures(bot: Bot, name: str) -> list[tuple[str, str]]:
    found = bot.sql(
        "SELECT role_id, user_id FROM signatures JOIN releases ON releases.id = release_id "
        "WHERE releases.name = :name AND withdrawn_at IS NULL ORDER BY signatures.id",
        name=name,
    )
    return [(str(role), str(user)) for role, user in found]


def test_a_new_ref_makes_the_signatures_stale_and_they_are_given_again(
    slack: Slack, bot: Bot, name: str
) -> None:
    slack.command("UREL", f"new {name} ref=abc123")
    slack.checks_done(name)
    approve_all_but_final(slack, name)
    assert slack.sign("UCTO", name, "cto").status_code == 200
    slack.wait_card(name, "Approved for production deployment")

    reply = slack.command("UREL", f"new {name} ref=def456")
    assert f"Moved *{name}* to ref `def456` (was `abc123`)" in reply
    thread = slack.wait_thread(name, "moved *" + name + "* to ref `def456`")
    moved = next(t for t in thread if "to ref `def456`" in t)
    for user, title in (("UENG", "Engineering Lead"), ("UCTO", "CTO/Engineering Manager")):
        assert f"<@{user}> ({title})" in moved
    card = slack.wait_card(name, "signature is stale")
    assert "Approved for production deployment" not in card
    assert "the ref changed from `abc123` to `def456`" in card
    slack.checks_done(name)

    assert slack.sign("UENG", name, "engineering_lead").status_code == 200
    slack.wait_card(name, "<@UENG>")
    assert live_signatures(bot, name).count(("engineering_lead", "UENG")) == 1
    assert "stale" in slack.card_text(name)  # the others are still stale


def test_a_changed_checklist_is_announced_once_after_restart(
    slack: Slack, bot: Bot, fake: FakeSlackThread, name: str
) -> None:
    slack.command("UREL", f"new {name} ref=abc123")
    slack.checks_done(name)
    assert slack.sign("UENG", name, "engineering_lead").status_code == 200
    slack.wait_card(name, "<@UENG>")

    bot.stop()
    config = Path(bot.env["READINESS_CONFIG"])
    config.write_text(
        config.read_text().replace(
            "      - {id: cluster_operational,",
            "      - {id: backups_tested, title: Backups restored in a drill, owner: devops_lead}\n"
            "      - {id: cluster_operational,",
            1,
        )
    )
    bot.start()
    thread = slack.wait_thread(name, "The checklist changed")
    assert any("<@UENG> (Engineering Lead)" in t for t in thread if "checklist changed" in t)
    slack.wait_card(name, "checklist changed since it was given")
    bot.stop()
    bot.start()  # a second restart on the same checklist says nothing new
    slack.command("UREL", f"status {name}")
    assert sum("The checklist changed" in t for t in slack.thread(name)) == 1
