"""Double clicks and double submits: one record, one thread message.

The two requests of a double click are distinct (each has its own trigger_id, as Slack
sends them), so the replay guard doesn't stop the second: the database and the rules must.
Both are sent at the same moment.
"""

from __future__ import annotations

from tests.reliability.helpers import (
    click_body,
    live_signatures,
    open_release,
    post_together,
    query,
    release_id,
    settle,
    submission,
)
from tests.scenario.conftest import Slack, approve_all_but_final
from tests.scenario.harness import Bot


def audit_count(bot: Bot, release: int, kind: str) -> int:
    found = query(
        bot,
        "SELECT count(*) FROM audit_events WHERE release_id = :release AND kind = :kind",
        release=release,
        kind=kind,
    )
    return int(found[0][0])


def test_double_click_on_sign_then_double_submit_records_one_signature(
    slack: Slack, bot: Bot, name: str
) -> None:
    release = open_release(slack, name)
    card = slack.card(name)
    opened = len(slack.fake.views("UENG"))

    clicks = post_together(
        bot, [click_body(slack, "UENG", card, "sign:engineering_lead") for _ in range(2)]
    )
    assert [(r.status_code, r.text) for r in clicks] == [(200, ""), (200, "")]
    views = slack.fake.wait_for(
        lambda f: f.views("UENG")[opened:] if len(f.views("UENG")) >= opened + 2 else None
    )
    first, second = views[-2:]
    assert first.callback_id == second.callback_id == "sign_view"

    # Submit pressed twice on one modal: two submissions of the same view, at once.
    answers = post_together(bot, [submission(slack, "UENG", first) for _ in range(2)])
    assert [r.status_code for r in answers] == [200, 200]
    closed = [r for r in answers if not r.text]
    refused = [r.json() for r in answers if r.text]
    assert len(closed) == 1, [r.text for r in answers]  # the signature's modal closes
    assert refused[0]["response_action"] == "errors"
    assert "already" in " ".join(refused[0]["errors"].values())
    # ...and the second modal of the double click, submitted after.
    late = post_together(bot, [submission(slack, "UENG", second)])[0]
    assert late.json()["response_action"] == "errors"

    settle(slack)
    assert live_signatures(bot, name) == [("engineering_lead", "UENG")]
    assert query(bot, "SELECT count(*) FROM signatures WHERE release_id = :id", id=release) == [
        (1,)
    ]
    assert audit_count(bot, release, "signature.added") == 1
    signed = [t for t in slack.thread(name) if t.startswith("<@UENG> signed as")]
    assert signed == ["<@UENG> signed as *Engineering Lead*."]
    assert "<@UENG>" in slack.wait_card(name, "<@UENG>")


def test_double_click_on_mark_deployed_deploys_once(slack: Slack, bot: Bot, name: str) -> None:
    open_release(slack, name)
    approve_all_but_final(slack, name)
    response = slack.sign("UCTO", name, "cto")
    assert response.status_code == 200 and not response.text, response.text
    slack.wait_card(name, "Approved for production deployment")
    card = slack.fake.wait_for(
        lambda f: next(
            (
                m
                for m in f.messages("CRELEASE")
                if m.text.startswith(f"{name}:") and "mark_deployed" in m.action_ids()
            ),
            None,
        )
    )
    release = release_id(bot, name)
    answered = len(slack.fake.responses())

    clicks = post_together(
        bot, [click_body(slack, "UOPS", card, "mark_deployed") for _ in range(2)]
    )
    assert [(r.status_code, r.text) for r in clicks] == [(200, ""), (200, "")]

    refusals = slack.fake.wait_for(
        lambda f: f.responses()[answered:] if len(f.responses()) > answered else None
    )
    assert [r.text for r in refusals] == [f"{name} is already marked deployed."]
    slack.wait_thread(name, "deployed")
    settle(slack)
    assert audit_count(bot, release, "release.deployed") == 1
    assert query(bot, "SELECT deployed_by FROM releases WHERE id = :id", id=release) == [("UOPS",)]
    deployed = [t for t in slack.thread(name) if "marked" in t and "deployed" in t]
    assert deployed and len(deployed) == 1, slack.thread(name)
    assert deployed[0].startswith(f":rocket: <@UOPS> marked *{name}* deployed.")
    assert len(slack.fake.responses()) == answered + 1  # no second answer came later
