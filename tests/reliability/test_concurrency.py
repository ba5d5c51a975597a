"""50 sign-offs submitted at the same moment across 10 releases: every one recorded, once.

The Engineering Lead needs two signers here (`min_signers: 2`), so each release takes five
concurrent sign-offs: UENG and UENG2, UOPS, USEC, UPRD. Every checklist item is manual here,
so ten releases open at once without 400 checks to run first.
"""

from __future__ import annotations

from tests.reliability.helpers import (
    SIGN_OFFS,
    TWO_ENGINEERING_LEADS,
    live_signatures,
    open_releases,
    post_together,
    query,
    settle,
    sign_off_bodies,
)
from tests.scenario.conftest import Slack
from tests.scenario.harness import Bot

CHECKS = False
ROLES = TWO_ENGINEERING_LEADS
RELEASES = [f"CONCURRENT {n}" for n in range(1, 11)]
TITLES = {
    "engineering_lead": "Engineering Lead",
    "devops_lead": "DevOps Lead",
    "security_lead": "Security Lead",
    "product_owner": "Product Owner",
}


def test_50_concurrent_sign_offs_across_10_releases(slack: Slack, bot: Bot) -> None:
    replies = open_releases(slack, RELEASES)
    assert sorted(r.text.split("*")[1] for r in replies) == sorted(RELEASES)
    modals, bodies = sign_off_bodies(slack, RELEASES)
    assert all(view.callback_id == "sign_view" for view in modals.values())
    before = query(bot, "SELECT count(*) FROM signatures")[0][0]
    log_from = len(bot.log())

    answers = post_together(bot, bodies)

    errors = [(r.status_code, r.text) for r in answers if r.status_code != 200 or r.text]
    assert errors == [], errors[:5]  # every modal closed: no error, no refusal
    slowest = max(r.elapsed.total_seconds() for r in answers)
    assert slowest < 3.0, f"an ack took {slowest:.1f}s: Slack shows an error after 3 s"
    assert query(bot, "SELECT count(*) FROM signatures")[0][0] == before + 50
    for name in RELEASES:
        assert sorted(live_signatures(bot, name)) == sorted(SIGN_OFFS), name
    log = bot.log()[log_from:]
    assert "database is locked" not in log
    assert "Traceback" not in log

    settle(slack)
    for name in RELEASES:
        signed = sorted(t for t in slack.thread(name) if " signed as " in t)
        assert signed == sorted(f"<@{u}> signed as *{TITLES[r]}*." for r, u in SIGN_OFFS), name
        card = slack.wait_card(name, "<@UENG2>")
        assert all(f"<@{user}>" in card for _, user in SIGN_OFFS), card
