"""The whole sign-off over HTTP, with requests signed as Slack signs them."""

from __future__ import annotations

import json

from bot.slack import ids
from tests.scenario.conftest import Slack, approve_all_but_final
from tests.scenario.harness import CHANNEL


def count(slack: Slack, table: str) -> int:
    return int(slack.bot.sql(f"SELECT count(*) FROM {table}")[0][0])


def open_release(slack: Slack, name: str) -> str:
    reply = slack.command("UREL", f"new {name} ref=abc123")
    assert f"Opened *{name}*" in reply
    slack.checks_done(name)
    return slack.wait_card(name, "Readiness")


def test_from_new_to_approved_for_production(slack: Slack, name: str) -> None:
    card = open_release(slack, name)
    assert "LUMINES/WIS2L" in card and "ref `abc123`" in card
    assert "Infrastructure Readiness" in card and "Engineering Lead" in card
    assert "Approved for production deployment" not in card
    approve_all_but_final(slack, name)
    response = slack.sign("UCTO", name, "cto", comment="Ship it")
    assert response.status_code == 200 and not response.text
    card = slack.wait_card(name, "Approved for production deployment")
    assert "Readiness 100%" in card
    for user in ("UENG", "UOPS", "USEC", "UPRD", "UCTO"):
        assert f"<@{user}>" in card
    thread = slack.wait_thread(name, "approved for production deployment")
    assert "<@UENG> signed as *Engineering Lead*." in thread
    assert "<@UCTO> signed as *CTO/Engineering Manager*.\n> Ship it" in thread
    assert slack.card(name).action_ids() == [] or "sign:cto" not in slack.card(name).action_ids()
    status = slack.command("UNOBODY", f"status {name}")
    assert "Approved for production deployment" in status


def test_non_member_is_refused_and_nothing_recorded(slack: Slack, name: str) -> None:
    open_release(slack, name)
    signatures = count(slack, "signatures")
    said = slack.refusal("UNOBODY", lambda: slack.click("UNOBODY", name, "sign:engineering_lead"))
    assert "not an approver for Engineering Lead" in said
    assert count(slack, "signatures") == signatures


def test_final_approval_before_the_others_is_refused(slack: Slack, name: str) -> None:
    open_release(slack, name)
    said = slack.refusal("UCTO", lambda: slack.click("UCTO", name, "sign:cto"))
    assert "The final approval comes last" in said


def test_creator_cannot_give_final_approval(slack: Slack, name: str) -> None:
    open_release(slack, name)
    approve_all_but_final(slack, name)
    said = slack.refusal("UREL", lambda: slack.click("UREL", name, "sign:cto"))
    assert f"You opened {name}" in said


def test_one_person_holds_one_role(slack: Slack, name: str) -> None:
    open_release(slack, name)
    assert slack.sign("UENG", name, "engineering_lead").status_code == 200
    slack.wait_card(name, "<@UENG>")
    said = slack.refusal("UENG", lambda: slack.click("UENG", name, "sign:security_lead"))
    assert "one person holds one role per release" in said


def test_second_click_on_a_taken_slot(slack: Slack, name: str) -> None:
    open_release(slack, name)
    stale = slack.card(name)  # both leads see the card with the Sign button
    assert slack.sign("UENG", name, "engineering_lead").status_code == 200
    said = slack.refusal(
        "UENG2", lambda: slack.click("UENG2", name, "sign:engineering_lead", message=stale)
    )
    assert "Engineering Lead is already signed" in said


def test_unticked_attestation_keeps_the_modal_open(slack: Slack, name: str) -> None:
    open_release(slack, name)
    signatures = count(slack, "signatures")
    response = slack.sign("UENG", name, "engineering_lead", ticks=["0", "1"])
    assert response.status_code == 200
    body = response.json()
    assert body["response_action"] == "errors"
    assert "Tick every statement" in body["errors"]["attestations"]
    assert count(slack, "signatures") == signatures


def test_withdraw_and_reject(slack: Slack, name: str) -> None:
    open_release(slack, name)
    assert slack.sign("UENG", name, "engineering_lead").status_code == 200
    slack.wait_card(name, "<@UENG>")
    withdraw = op(slack, name, "withdraw")
    kept = slack.answer("UENG", lambda: slack.click("UENG", name, "more", withdraw), ids.KEEP)
    assert kept == "Nothing changed. Your signature stands."
    assert "<@UENG>" in slack.card_text(name)  # still signed
    said = slack.answer("UENG", lambda: slack.click("UENG", name, "more", withdraw))
    assert said == f"Your signature on *{name}* is withdrawn."
    slack.wait_thread(name, "withdrew their signature")
    before = slack.card(name)
    view = slack.open_modal("USEC", name, "more", value=op(slack, name, "reject"))
    assert view.callback_id == "reject_view"
    response = slack.driver.submit("USEC", view, {"reason": "Pen test <!channel> pending"})
    assert response.status_code == 200 and not response.text
    card = slack.wait_card(name, "Blocked")
    assert "&lt;!channel&gt;" in card and "<!channel>" not in card
    said = slack.refusal(
        "UPRD", lambda: slack.click("UPRD", name, "sign:product_owner", message=before)
    )
    assert "blocked by a rejection" in said
    slack.click("USEC", name, "more", value=op(slack, name, "unreject"))
    slack.wait_card(name, "Open for sign-off")


def test_checklist_ticks_are_owner_only(slack: Slack, name: str) -> None:
    open_release(slack, name)
    mine = slack.open_modal("UENG", name, "checklist")
    assert "Cluster operational" not in mine.all_text()  # the first page: UENG's own items
    assert slack.driver.click_in_view("UENG", mine, "checklist_section", "infrastructure")
    infra = slack.fake.wait_for(
        lambda f: "Cluster operational" in f.view(mine.id).all_text() and f.view(mine.id),
        timeout=15,
    )
    assert "DevOps Lead ticks it" in infra.all_text()  # read-only, saying who ticks it
    assert not [
        o
        for b in infra.blocks
        if str(b.get("block_id")).startswith("manual:")
        for o in b["elements"][0]["options"]
        if o["value"] == "cluster_operational"
    ]  # another role's item is not a checkbox
    # A submission naming another role's item (the DevOps Lead's form, sent by UENG).
    ops = slack.open_modal("UOPS", name, "checklist")
    block = next(b for b in ops.blocks if str(b.get("block_id")).startswith("manual:infra"))
    theirs = [o["value"] for o in block["elements"][0]["options"]][:1]
    response = slack.driver.submit("UENG", ops, {block["block_id"]: theirs}, enforce_required=False)
    assert response.json()["response_action"] == "update"
    assert "Only DevOps Lead can tick" in json.dumps(response.json()["view"])
    assert slack.tick_own_items("UOPS", name).status_code == 200
    slack.wait_thread(name, "<@UOPS> ticked")


def test_status_list_cancel_and_unknown_words(slack: Slack, name: str) -> None:
    open_release(slack, name)
    assert name in slack.command("UREL", "list")
    assert "`/readiness new NAME" in slack.command("UREL", "frobnicate")
    assert "There is no release named" in slack.command("UREL", "export NOPE 9")
    assert "There is no release named" in slack.command("UREL", "status NOPE 9")
    said = slack.command("UNOBODY", f"cancel {name}")
    assert "can cancel it" in said
    asked = slack.command("UREL", f"cancel {name}")
    assert f"Cancel *{name}*? Its sign-off ends" in asked and "Cancel the release" in asked
    assert "Open for sign-off" in slack.card_text(name)  # a question changes nothing
    said = slack.answer("UREL", lambda: slack.driver.command("UREL", f"cancel {name}", CHANNEL))
    assert said == f"Cancelled *{name}*."
    assert "cancelled" in slack.wait_card(name, "cancelled by <@UREL>")


def test_rerun_checks_shows_a_failure_with_its_reason(slack: Slack, name: str, target) -> None:
    open_release(slack, name)
    target.state.broken.add("db")
    try:
        assert "Running" in slack.command("UREL", f"check {name}")
        card = slack.wait_card(name, "answered 503 Service Unavailable, expected 200")
        assert "Not passing" in card
    finally:
        target.state.broken.discard("db")


def test_a_mistyped_section_is_named(slack: Slack, name: str) -> None:
    open_release(slack, name)
    said = slack.command("UREL", f"check {name} infrastucture")
    assert "There is no section `infrastucture`; the sections are" in said
    assert "`infrastructure`" in said
    said = slack.command("UREL", f"check {name}x infrastucture")  # neither: the name is wrong
    assert f"There is no release named “{name}x infrastucture”" in said


def op(slack: Slack, name: str, what: str) -> str:
    return json.dumps({"r": release_id(slack, name), "op": what}, separators=(",", ":"))


def release_id(slack: Slack, name: str) -> int:
    found = slack.bot.sql(
        "SELECT id FROM releases WHERE name = :name AND state != 'cancelled'", name=name
    )
    return int(found[0][0])


def test_forged_and_stale_requests_get_401(slack: Slack) -> None:
    body = b"command=%2Freadiness&text=list&user_id=UREL&channel_id=" + CHANNEL.encode()
    assert (
        slack.driver.raw(
            body, {"X-Slack-Request-Timestamp": "1", "X-Slack-Signature": "v0=00"}
        ).status_code
        == 401
    )
    assert (
        slack.driver.raw(
            body, {"X-Slack-Request-Timestamp": "soon", "X-Slack-Signature": "v0=00"}
        ).status_code
        == 401
    )
    assert slack.driver.raw(body, {}).status_code == 401


def test_user_group_member_signs_resolved_at_signing_time(slack: Slack, name: str) -> None:
    open_release(slack, name)
    response = slack.sign("UGROUP", name, "product_owner")
    assert response.status_code == 200 and not response.text
    slack.wait_thread(name, "<@UGROUP> signed as *Product Owner*.")
    asked = [c.args.get("usergroup") for c in slack.fake.calls("usergroups.users.list")]
    assert "SPRODUCT" in asked


def test_malformed_requests_change_nothing(slack: Slack, name: str) -> None:
    open_release(slack, name)
    signatures = count(slack, "signatures")
    bad_value = slack.refusal(
        "UENG",
        lambda: slack.click(
            "UENG", name, "sign:engineering_lead", message=_with_value(slack.card(name), "garbage")
        ),
    )
    assert "out of date" in bad_value
    for body in (b"payload=%7Bnot+json", b"payload=%5B%5D", b"text=%00%00", b"\xff\xfe"):
        status = slack.driver.post(body, "application/x-www-form-urlencoded").status_code
        assert 200 <= status < 500, (body, status)
    assert count(slack, "signatures") == signatures
    assert slack.driver.command("UREL", "list").status_code == 200  # still alive


def _with_value(message, value: str):  # type: ignore[no-untyped-def]
    for block in message.blocks:
        for element in block.get("elements", []):
            if element.get("action_id") == "sign:engineering_lead":
                element["value"] = value
    return message
