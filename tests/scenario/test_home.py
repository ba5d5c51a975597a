"""App Home over HTTP: opening the Home tab publishes the sign-offs waiting for that
person (user groups included) and the open releases; its Sign button opens the modal."""

from __future__ import annotations

from typing import Any

from bot.fake_slack import FakeSlackThread, View
from bot.slack import ids
from tests.scenario.conftest import Slack


def open_release(slack: Slack, name: str) -> None:
    assert f"Opened *{name}*" in slack.command("UREL", f"new {name}")
    slack.checks_done(name)


def home_of(slack: Slack, fake: FakeSlackThread, user: str, *needles: str) -> View:
    """Open USER's Home tab; the home view once it shows every needle."""
    published = len(fake.calls("views.publish"))
    response = slack.driver.open_home(user)
    assert response.status_code == 200, response.text

    def shown(s: Any) -> View | None:
        home = s.home(user)
        fresh = len(s.calls("views.publish")) > published
        if fresh and home is not None and all(n in home.all_text() for n in needles):
            return home  # type: ignore[no-any-return]
        return None

    try:
        return fake.wait_for(shown, timeout=15)
    except TimeoutError:
        home = fake.home(user)
        raise AssertionError(
            f"home of {user} never showed {needles}:\n{home and home.all_text()}"
            f"\n--- bot log ---\n{slack.bot.log()[-3000:]}"
        ) from None


def sign_button(home: View, name: str, role: str) -> dict[str, Any]:
    for block in home.blocks:
        accessory = block.get("accessory") or {}
        if name in str(block.get("text", {}).get("text")) and accessory.get("action_id") == (
            ids.SIGN_PREFIX + role
        ):
            return dict(accessory)
    raise AssertionError(f"no Sign as {role} for {name} in:\n{home.all_text()}")


def test_the_home_tab_shows_whose_sign_off_is_waiting(
    slack: Slack, fake: FakeSlackThread, name: str
) -> None:
    open_release(slack, name)
    home = home_of(slack, fake, "USEC", name, "Waiting for your sign-off")
    text = home.all_text()
    assert f"*{name}* needs your sign-off as *Security Lead*" in text
    assert "*Open releases*" in text and "Open for sign-off" in text and "% " in text
    button = sign_button(home, name, "security_lead")

    # Its button opens the Sign modal, as the card's does; signing empties the list.
    views = len(fake.views("USEC"))
    response = slack.driver.click_in_view("USEC", home, button["action_id"], value=button["value"])
    assert response.status_code == 200, response.text
    modal = fake.wait_for(
        lambda s: next((v for v in s.views("USEC")[views:] if v.callback_id == "sign_view"), None),
        timeout=15,
    )
    options = [
        o["value"]
        for b in modal.blocks
        if b.get("block_id") == "attestations"
        for o in b["element"]["options"]
    ]
    answer = slack.driver.submit("USEC", modal, {"attestations": options}, enforce_required=False)
    assert answer.status_code == 200 and not answer.text, answer.text
    slack.wait_card(name, "<@USEC>")
    after = home_of(slack, fake, "USEC", name)
    assert f"*{name}* needs your sign-off" not in after.all_text()


def test_a_user_group_member_and_the_final_approver(
    slack: Slack, fake: FakeSlackThread, name: str
) -> None:
    open_release(slack, name)
    # UGROUP holds Product Owner only through the SPRODUCT user group.
    grouped = home_of(slack, fake, "UGROUP", name)
    sign_button(grouped, name, "product_owner")
    # The final approval comes after the others: listed, without a button.
    final = home_of(slack, fake, "UCTO", name, "Yours to sign later")
    assert "The final approval comes last" in final.all_text()
    assert f"*{name}* needs your sign-off" not in final.all_text()
    nobody = home_of(slack, fake, "UNOBODY", name)
    assert "Nothing is waiting for your sign-off" in nobody.all_text()
    assert ids.SIGN_PREFIX not in " ".join(nobody.action_ids())


def test_an_open_home_tab_follows_the_release_without_being_reopened(
    slack: Slack, fake: FakeSlackThread, name: str
) -> None:
    open_release(slack, name)
    home_of(slack, fake, "USEC", name, f"*{name}* needs your sign-off as *Security Lead*")
    published = len(fake.calls("views.publish"))
    response = slack.sign("USEC", name, "security_lead")
    assert response.status_code == 200, response.text

    def refreshed(s: Any) -> View | None:
        home = s.home("USEC")
        fresh = len(s.calls("views.publish")) > published
        if fresh and home is not None and f"*{name}* needs your sign-off" not in home.all_text():
            return home  # type: ignore[no-any-return]
        return None

    home = fake.wait_for(refreshed, timeout=20)  # the card changed: the Home follows it
    assert name in home.all_text()  # still among the open releases
