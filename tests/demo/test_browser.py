"""The demo in a real browser (Debian's chromium, driven by Playwright): a release from
`/readiness new` to its first post-deployment digest, every step through the page, as
each role in turn; then a person with no role is refused. Saves a screenshot of the
approved card; with README_SCREENSHOT=1 it refreshes docs/demo-approved.png, the one the
README shows (so a plain test run leaves the checkout clean)."""

from __future__ import annotations

import os
import re
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urljoin

from bot.slack.blocks.messages import HELP
from tests.demo.browser import (
    ARGS,
    CHROMIUM,
    NEEDS_BROWSER,
    assert_every_glyph_drawn,
    screenshot,
    shots,
)
from tests.demo.conftest import ROOT, Demo

SCREENSHOT = ROOT / "docs" / "demo-approved.png"
ROLES = [
    ("UENG", "Engineering Lead"),
    ("UOPS", "DevOps Lead"),
    ("USEC", "Security Lead"),
    ("UPRD", "Product Owner"),
]
CTO = ("UCTO", "CTO/Engineering Manager")
# Tick, in the Checklist modal, every manual item this person's role owns (or anyone may).
TICK_MINE = """() => {
  let ticked = 0;
  for (const box of document.querySelectorAll('#modal-layer [data-block-id^="manual:"] input')) {
    if (!box.checked) {
      box.click();
      ticked += 1;
    }
  }
  return ticked;
}"""

pytestmark = NEEDS_BROWSER
# Is every entry of the open overflow menu on screen, and the one a click there reaches?
# (Three points of each: its top, middle and bottom edges.) Where there is no room below
# its button, it should have opened upward. Found and measured in one go: the card may be
# drawn anew at any moment (its thread grows), the open menu with it.
MENU_FITS = """() => {
  const menu = document.querySelector('#messages .overflow .menu:not([hidden])');
  if (!menu) return null;
  const pane = menu.closest('.messages').getBoundingClientRect();
  const toggle = menu.parentElement.querySelector('.overflow-toggle').getBoundingClientRect();
  const box = menu.getBoundingClientRect();
  const items = [...menu.querySelectorAll('.menu-item')].map((item) => {
    const r = item.getBoundingClientRect();
    const shown = r.top >= Math.max(pane.top, 0) && r.bottom <= Math.min(pane.bottom, innerHeight);
    const hit = [r.top + 2, r.top + r.height / 2, r.bottom - 2].every((y) => {
      const at = document.elementFromPoint(r.left + r.width / 2, y);
      return at === item || item.contains(at);
    });
    return { text: item.textContent, shown, hit };
  });
  return {
    up: menu.classList.contains('up'), below: pane.bottom - toggle.bottom,
    height: box.height, items,
  };
}"""


def minute(at: datetime) -> str:
    """A datetime-local input's value (the browser runs in UTC)."""
    return at.strftime("%Y-%m-%dT%H:%M")


def test_release_from_command_to_first_digest_then_a_refusal(demo: Demo) -> None:
    from playwright.sync_api import expect, sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        try:
            context = browser.new_context(
                viewport={"width": 1360, "height": 1000}, timezone_id="UTC", locale="en-US"
            )
            context.set_default_timeout(20_000)
            page = context.new_page()
            problems: list[str] = []
            page.on("pageerror", lambda error: problems.append(str(error)))
            # Nothing the page does may trip its own Content-Security-Policy.
            page.on(
                "console",
                lambda message: (
                    "Content Security Policy" in message.text and problems.append(message.text)
                ),
            )
            run_the_release(page, demo, expect)
            assert not problems, problems
        finally:
            browser.close()


def run_the_release(page: Any, demo: Demo, expect: Any) -> None:
    page.goto(demo.url)
    expect(page.locator("#banner")).to_contain_text("local stand-in for a Slack workspace")
    the_composer_offers_every_verb(page, expect)

    def be(user: str) -> None:
        page.select_option("#user-select", user)
        expect(page.locator("#user-select")).to_have_value(user)

    def say(text: str) -> None:
        page.fill("#composer", text)
        page.press("#composer", "Enter")

    modal = page.locator("#modal-layer .modal")
    thread = page.locator("#thread-messages")

    # Message text is shown as text, never run: the page escapes what people type.
    say('<img src=x onerror="window.hacked=1"> *hello*')
    expect(page.locator("#messages .message", has_text="<img src=x")).to_be_visible()
    assert page.evaluate("window.hacked") is None

    say("/readiness new LUMINES 1.0.0")
    card = page.locator("#messages .message", has_text="LUMINES 1.0.0 · production readiness")
    expect(card).to_be_visible()
    expect(card).to_contain_text("Open for sign-off")
    # Unfinished sections wear an hourglass: a picture, as no font here has U+23F3.
    expect(card.locator(".e-hourglass").first).to_be_visible()
    assert_every_glyph_drawn(page, "body")
    screenshot(card, "open-card")

    for user, title in [*ROLES, CTO]:
        be(user)
        card.get_by_role("button", name="Checklist", exact=True).click()
        expect(modal).to_be_visible()
        ticked = page.evaluate(TICK_MINE)
        assert ticked or title == CTO[1], title  # the CTO's own items are ticked by others
        modal.locator(".modal-foot .submit" if ticked else ".modal-foot .cancel").click()
        expect(modal).to_be_hidden()
    expect(card).to_contain_text("Readiness 100%", timeout=30_000)
    the_checklist_shows_any_section(page, card, modal, expect)

    for user, title in ROLES:
        be(user)
        card.get_by_role("button", name=f"Sign as {title}").click()
        expect(modal).to_contain_text(f"as {title}")
        for box in modal.locator("[data-block-id=attestations] input").all():
            box.check()
        modal.get_by_role("button", name="Sign", exact=True).click()
        expect(modal).to_be_hidden()
        expect(thread).to_contain_text(f"signed as {title}")

    # The final approval: section 10 of the sign-off, with the modal's own field errors.
    be(CTO[0])
    card.get_by_role("button", name=f"Sign as {CTO[1]}").click()
    expect(modal).to_contain_text("final approval")
    modal.get_by_role("button", name="Sign", exact=True).click()
    expect(modal.locator("[data-block-id=attestations] .field-error")).to_have_text(
        "Please complete this required field."
    )
    for box in modal.locator("[data-block-id=attestations] input").all():
        box.check()
    now = datetime.now(UTC)
    modal.locator("[data-block-id=window_start] input").fill(minute(now + timedelta(hours=2)))
    modal.locator("[data-block-id=window_end] input").fill(minute(now + timedelta(hours=1)))
    team = modal.locator("[data-block-id=deploy_team]")
    if team.locator(".chip").count() == 0:
        team.locator("select").select_option("UOPS")
    modal.locator("[data-block-id=rollback_plan] textarea").fill("helm rollback lumines")
    modal.get_by_role("button", name="Sign", exact=True).click()
    expect(modal.locator("[data-block-id=window_end] .field-error")).to_be_visible()
    modal.locator("[data-block-id=window_end] input").fill(minute(now + timedelta(hours=4)))
    modal.get_by_role("button", name="Sign", exact=True).click()
    expect(modal).to_be_hidden()

    expect(card).to_contain_text("Approved for production deployment")
    expect(card).to_contain_text("helm rollback lumines")
    SCREENSHOT.parent.mkdir(exist_ok=True)
    shot = SCREENSHOT if os.environ.get("README_SCREENSHOT") else shots() / "approved.png"
    card.screenshot(path=str(shot))
    assert shot.stat().st_size > 10_000
    assert_every_glyph_drawn(page, "body")
    the_overflow_menu_shows_every_entry(page, card, expect)
    who_you_are_survives_a_reload(page, demo, card, expect)

    be("UOPS")
    card.get_by_role("button", name="Mark deployed").click()
    confirm = page.locator("#confirm-layer")
    expect(confirm).to_contain_text("Mark deployed?")
    confirm.get_by_role("button", name="Mark deployed").click()
    expect(card).to_contain_text("Deployed")
    a_breach_is_one_alert(page, say, thread, expect)
    digest = page.locator("#messages .message", has_text="Immediate (First Hour) digest")
    expect(digest).to_be_visible(timeout=30_000)
    expect(digest).to_contain_text("runs passed")
    assert_every_glyph_drawn(page, "body")
    screenshot(page, "digest")
    the_exported_document_opens_in_the_page(page, say, expect)

    # Someone with no role opens the next release and tries to sign it.
    be("UVIS")
    say("/readiness new LUMINES 1.0.1")
    second = page.locator("#messages .message", has_text="LUMINES 1.0.1 · production readiness")
    second.get_by_role("button", name="Sign as Engineering Lead").click()
    refusal = page.locator("#messages .message.ephemeral", has_text="not an approver")
    expect(refusal).to_contain_text("Only visible to you")
    expect(refusal).to_contain_text("You are not an approver for Engineering Lead")
    be("UENG")  # an ephemeral message is for its one reader
    expect(page.locator("#messages .message.ephemeral", has_text="not an approver")).to_have_count(
        0
    )
    cancelling_asks_first(page, be, say, second, expect)


def cancelling_asks_first(page: Any, be: Any, say: Any, card: Any, expect: Any) -> None:
    """/readiness cancel asks, privately, before it acts; the answer replaces the question."""
    be("UVIS")  # who opened it
    say("/readiness cancel LUMINES 1.0.1")
    question = page.locator("#messages .message.ephemeral", has_text="Its sign-off ends")
    expect(question).to_contain_text("Cancel LUMINES 1.0.1?")
    screenshot(question, "cancel-question")
    question.get_by_role("button", name="Keep it").click()
    kept = page.locator("#messages .message.ephemeral", has_text="Nothing changed")
    expect(kept).to_contain_text("The release stays.")
    expect(question).to_have_count(0)
    expect(card).to_contain_text("Open for sign-off")
    say("/readiness cancel LUMINES 1.0.1")
    question.get_by_role("button", name="Cancel the release").click()
    expect(page.locator("#messages .message.ephemeral", has_text="Cancelled")).to_be_visible()
    expect(card).to_contain_text("cancelled by")


def the_checklist_shows_any_section(page: Any, card: Any, modal: Any, expect: Any) -> None:
    """The Checklist opens on the viewer's own items; its picker shows any other section,
    whose items belong to others and are read, not ticked."""
    card.get_by_role("button", name="Checklist", exact=True).click()
    picker = modal.locator("[data-block-id=checklist_section] select")
    expect(picker).to_be_visible()
    screenshot(modal, "checklist-mine")
    picker.select_option("infrastructure")
    expect(modal).to_contain_text("Infrastructure")
    expect(modal).to_contain_text("ticked by")
    expect(modal.locator('[data-block-id^="manual:"]')).to_have_count(0)
    screenshot(modal, "checklist-section")
    modal.locator(".modal-foot .cancel").click()
    expect(modal).to_be_hidden()


def a_breach_is_one_alert(page: Any, say: Any, thread: Any, expect: Any) -> None:
    """The service breaks after the deploy: one alert in the card's thread names every
    failing item and is edited as they change; mended, one recovery is said."""
    # The switch stays flipped while its request is on the way, though a snapshot from
    # before it (here, a message said meanwhile) reaches the page first.
    held: list[Any] = []
    page.route("**/demo/break", lambda route: held.append(route))
    page.locator("#switch-app input").check()
    say("Breaking the application on purpose")
    expect(page.locator("#messages .message", has_text="on purpose")).to_be_visible()
    expect(page.locator("#switch-app input")).to_be_checked()
    assert len(held) == 1
    held[0].continue_()
    page.unroute("**/demo/break")
    failing = thread.locator(".message", has_text="are failing on")
    expect(failing).to_have_count(1, timeout=30_000)
    alert = thread.locator(f'.message[data-ts="{failing.get_attribute("data-ts")}"]')
    expect(alert.get_by_role("button", name="Acknowledge")).to_be_visible()
    screenshot(alert, "breach-alert")
    page.locator("#switch-app input").uncheck()
    expect(thread.locator(".message", has_text="recovered on")).to_have_count(1, timeout=30_000)
    expect(alert).to_contain_text("passes again")
    screenshot(thread, "breach-recovered")


def the_composer_offers_every_verb(page: Any, expect: Any) -> None:
    """Typing /rea lists every verb of /readiness help, export too; more narrows it."""
    page.fill("#composer", "/rea")
    rows = page.locator("#composer-hint .command code")
    verbs = re.findall(r"`/readiness (\w+)", HELP)
    expect(rows).to_have_count(len(verbs))
    shown = [text.split()[1] for text in rows.all_text_contents()]
    assert shown == verbs
    for row in page.locator("#composer-hint .command").all():
        expect(row).to_be_in_viewport(ratio=1)
    screenshot(page, "composer-hint")
    page.fill("#composer", "/readiness ex")
    expect(rows).to_have_text(["/readiness export"])
    page.locator("#composer-hint .command").click()
    expect(page.locator("#composer")).to_have_value("/readiness export")
    page.fill("#composer", "")
    expect(page.locator("#composer-hint")).to_be_hidden()


def the_overflow_menu_shows_every_entry(page: Any, card: Any, expect: Any) -> None:
    """The card's ⋯ menu, at the bottom of the channel just over the composer, opens
    where all of it shows, and its last entry takes a click."""
    page.locator("#messages").evaluate("(pane) => { pane.scrollTop = pane.scrollHeight; }")
    card.locator(".overflow-toggle").click()
    menu = card.locator(".overflow .menu")
    expect(menu).to_be_visible()
    fits = page.evaluate(MENU_FITS)
    assert fits and len(fits["items"]) == 3, fits
    assert all(item["shown"] and item["hit"] for item in fits["items"]), fits
    # The case the release manager hit: no room below the button, so it opened upward.
    assert fits["below"] < fits["height"] and fits["up"], fits
    screenshot(page, "overflow-menu")
    menu.get_by_role("menuitem", name="Withdraw my rejection").click()
    expect(menu).to_be_hidden()
    said = page.locator("#messages .message.ephemeral", has_text="no rejection")
    expect(said).to_contain_text("You have no rejection on LUMINES 1.0.0 to withdraw")


def who_you_are_survives_a_reload(page: Any, demo: Demo, card: Any, expect: Any) -> None:
    """The CTO reloads, and is still the CTO; a new tab of the same browser too."""
    page.reload()
    expect(page.locator("#user-select")).to_have_value(CTO[0])
    expect(page.locator("#user-note")).to_have_text(f"Eli Novak signs as {CTO[1]}.")
    assert f"as={CTO[0]}" in page.url
    expect(card).to_contain_text("Approved for production deployment")
    other = page.context.new_page()
    try:
        other.goto(demo.url)
        expect(other.locator("#user-select")).to_have_value(CTO[0])
    finally:
        other.close()
    # Someone the demo doesn't know is forgotten: the default person, no error.
    other = page.context.new_page()
    try:
        other.goto(demo.url + "?as=UNOBODY")
        expect(other.locator("#user-select")).to_have_value("UENG")
        expect(other.locator("#connection")).to_be_hidden()
        assert "as=" not in other.url
    finally:
        other.close()


def the_exported_document_opens_in_the_page(page: Any, say: Any, expect: Any) -> None:
    """/readiness export puts the document in the card's thread; a click shows it."""
    say("/readiness export LUMINES 1.0.0")  # deployed: no longer the open one
    thread = page.locator("#thread-messages")
    file = thread.locator("a.file", has_text="LUMINES 1.0.0: production readiness sign-off")
    expect(file).to_be_visible()
    expect(file).to_contain_text("LUMINES-1.0.0-signoff.md")
    screenshot(thread.locator(".message").filter(has=page.locator("a.file")), "file-card")
    href = file.get_attribute("href")
    assert href and re.fullmatch(r"/demo/files/F\w+", href), href
    raw = page.request.get(urljoin(page.url, href))
    assert raw.ok and raw.headers["content-type"] == "text/plain; charset=utf-8"
    file.click()
    viewer = page.locator("#file-layer .file-viewer")
    expect(viewer).to_be_visible()
    body = viewer.locator(".file-body")
    expect(body).to_contain_text("# Production Readiness Sign-Off")
    expect(body).to_contain_text("**Release:** LUMINES 1.0.0")
    assert body.evaluate("(pre) => pre.children.length === pre.querySelectorAll('.emoji').length")
    assert_every_glyph_drawn(page, "#file-layer")
    screenshot(page, "file-viewer")
    page.keyboard.press("Escape")
    expect(viewer).to_be_hidden()


# mrkdwn -> what the page shows (innerHTML of the rendered node). Slack escapes & < > in
# message text; the page shows them as text, never as markup.
MRKDWN = [
    (
        "*bold* _it_ ~gone~ `code`",
        "<strong>bold</strong> <em>it</em> <s>gone</s> <code>code</code>",
    ),
    (
        "<@UENG> signed as *CTO*",
        '<span class="mention">@Ada Park</span> signed as <strong>CTO</strong>',
    ),
    ("&lt;img src=x onerror=alert(1)&gt; &amp;", "&lt;img src=x onerror=alert(1)&gt; &amp;"),
    ("<javascript:alert(1)|click me>", "click me"),
    (
        "<https://example.com/a?b=1&amp;c=2|the runbook>",
        '<a class="link" href="https://example.com/a?b=1&amp;c=2" target="_blank" '
        'rel="noopener noreferrer">the runbook</a>',
    ),
    (
        "&gt; helm rollback\n&gt; lumines\nafter",
        "<blockquote>helm rollback<br>lumines</blockquote>after",
    ),
    ("first_hour and snake_case_name", "first_hour and snake_case_name"),
    ("one\ntwo", "one<br>two"),
    ("```\n<b>x</b>\n```", '<pre class="code-block">&lt;b&gt;x&lt;/b&gt;\n</pre>'),
]
RENDER = """([text, users]) => {
  const node = document.createElement('div');
  node.append(window.Mrkdwn.render(text, {users}));
  return node.innerHTML;
}"""


def test_mrkdwn_is_rendered_as_text_never_as_markup(demo: Demo) -> None:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        try:
            page = browser.new_page(timezone_id="UTC", locale="en-US")
            page.goto(demo.url)
            page.wait_for_function("window.Mrkdwn !== undefined")
            users = {"UENG": {"real_name": "Ada Park"}}
            for text, shown in MRKDWN:
                assert page.evaluate(RENDER, [text, users]) == shown, text
            date = page.evaluate(
                """() => {
                  const node = document.createElement('div');
                  node.append(window.Mrkdwn.render('<!date^0^{date_num} {time}|the epoch>'));
                  node.append(window.Mrkdwn.render('<!date^0^{nonsense}|the epoch>'));
                  node.append(window.Mrkdwn.render(':white_check_mark: :no_such_emoji:'));
                  return node.textContent;
                }"""
            )
            assert date.startswith("1970-01-01 00:00the epoch")
            assert ":white_check_mark:" not in date and ":no_such_emoji:" in date
        finally:
            browser.close()


PAYMENTS = ("CPAYMENTS", "payments-releases", "Payments")
PAYMENTS_SECTIONS = ["Application Readiness", "Security Readiness", "Final Validation Checklist"]


def test_a_release_in_the_second_channel_is_that_products(demo: Demo) -> None:
    """#payments-releases routes to Payments: a release opened there carries its title and
    its three sections, not LUMINES' eight; its Security Lead is its own, and LUMINES'
    is refused there."""
    from playwright.sync_api import expect, sync_playwright

    channel_id, name, title = PAYMENTS
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        try:
            context = browser.new_context(
                viewport={"width": 1360, "height": 1000}, timezone_id="UTC", locale="en-US"
            )
            context.set_default_timeout(20_000)
            page = context.new_page()
            problems: list[str] = []
            page.on("pageerror", lambda error: problems.append(str(error)))
            page.goto(demo.url + "?as=UENG")
            channels = page.locator("#channel-list .channel-link")
            expect(channels).to_have_count(2)
            expect(channels.nth(0)).to_contain_text("releases")
            expect(channels.nth(0)).to_contain_text("LUMINES/WIS2L")
            expect(channels.nth(1)).to_contain_text(title)

            page.locator(f'#channel-list [data-channel="{channel_id}"]').click()
            expect(page.locator("#channel-name")).to_have_text(name)
            expect(page.locator("#channel-topic")).to_contain_text(f"sign-off for {title}")
            intro = page.locator("#messages .intro")
            expect(intro).to_contain_text(f"This is the very beginning of #{name}")
            expect(intro).to_contain_text("Fay Okafor signs here as Security Lead")
            expect(intro).to_contain_text("Chen Wu (LUMINES/WIS2L's Security Lead) holds no role")
            # The switcher says where each holds a role.
            groups = page.locator("#user-select optgroup")
            assert [g.get_attribute("label") for g in groups.all()] == [
                "In every product",
                "LUMINES/WIS2L only",
                f"{title} only",
                "No role",
            ]
            expect(groups.nth(2).locator("option")).to_have_text(["Fay Okafor · Security Lead"])
            assert f"channel={name}" in page.url
            assert page.title() == f"#{name} · Readiness demo"
            expect(page.locator("#composer")).to_have_attribute(
                "placeholder", f"Message #{name}. Try /readiness new Payments 2.0.0"
            )

            page.reload()  # the channel shown is kept in the address
            expect(page.locator("#channel-name")).to_have_text(name)

            page.fill("#composer", "/readiness new Payments 2.0.0")
            page.press("#composer", "Enter")
            card = page.locator("#messages .message", has_text="Payments 2.0.0 · production")
            expect(card).to_be_visible()
            expect(card.locator(".block").nth(1)).to_contain_text(title)
            fields = card.locator(".fields .field")
            expect(fields).to_have_count(len(PAYMENTS_SECTIONS))
            assert fields.locator("strong").all_inner_texts() == PAYMENTS_SECTIONS
            expect(card).not_to_contain_text("Infrastructure Readiness")
            expect(card).to_contain_text("Sign as Security Lead")

            # LUMINES' Security Lead is not Payments': refused, with the reason, privately.
            page.select_option("#user-select", "USEC")
            expect(page.locator("#user-note")).to_have_text(
                f"Chen Wu holds no role in {title}: signing in #{name} is refused."
            )
            page.locator("#home-link").click()  # at Home: where they hold it
            expect(page.locator("#user-note")).to_have_text(
                "Chen Wu signs as Security Lead in #releases."
            )
            page.locator(f'#channel-list [data-channel="{channel_id}"]').click()
            card.get_by_role("button", name="Sign as Security Lead").click()
            refusal = page.locator("#messages .message.ephemeral", has_text="not an approver")
            expect(refusal).to_contain_text("You are not an approver for Security Lead")
            screenshot(page.locator("#channel"), "payments-refusal")
            # Payments' own may sign.
            page.select_option("#user-select", "UPSEC")
            expect(page.locator("#user-note")).to_have_text(
                f"Fay Okafor signs as Security Lead in #{name}."
            )
            card.get_by_role("button", name="Sign as Security Lead").click()
            modal = page.locator("#modal-layer .modal")
            expect(modal).to_contain_text("as Security Lead")
            modal.locator(".modal-foot .cancel").click()
            expect(modal).to_be_hidden()
            assert_every_glyph_drawn(page, "body")
            screenshot(page, "payments-channel")
            screenshot(card, "payments-card")

            # The release is Payments' only: #releases (the intro's link goes there) does
            # not show it.
            intro.get_by_role("button", name="#releases").click()
            expect(page.locator("#channel-name")).to_have_text("releases")
            expect(
                page.locator("#messages .message", has_text="Payments 2.0.0 · production")
            ).to_have_count(0)
            assert "channel=" not in page.url
            assert not problems, problems
        finally:
            browser.close()


def test_a_failing_item_is_waived_by_another_approver(demo: Demo) -> None:
    """The database breaks: the Engineering Lead asks, from the Checklist, to waive its
    item; their own Approve is refused privately; the Security Lead approves, and the card
    shows the item as waived (by whom, until when, why), never as passing."""
    from playwright.sync_api import expect, sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        try:
            page = browser.new_page(
                viewport={"width": 1360, "height": 1000}, timezone_id="UTC", locale="en-US"
            )
            page.set_default_timeout(20_000)
            page.goto(demo.url)
            page.select_option("#user-select", "UENG")
            page.locator("#switch-db input").check()
            page.fill("#composer", "/readiness new LUMINES 4.0.0")
            page.press("#composer", "Enter")
            card = page.locator("#messages .message", has_text="LUMINES 4.0.0 · production")
            expect(card).to_contain_text("Database health", timeout=30_000)
            card.get_by_role("button", name="Checklist", exact=True).click()
            modal = page.locator("#modal-layer .modal")
            item = modal.locator(".block.section", has_text="Database health endpoint")
            item.get_by_role("button", name="Request waiver…").click()
            form = page.locator("#modal-layer .modal", has_text="Ask to count")
            expect(form).to_contain_text("Database health")
            form.locator("[data-block-id=duration] input").fill("30d")
            form.locator("[data-block-id=reason] textarea").fill("Known outage, fix in 1.0.1")
            form.get_by_role("button", name="Ask", exact=True).click()
            expect(form.locator("[data-block-id=duration] .field-error")).to_contain_text(
                "at most 14d"
            )
            screenshot(form, "waiver-form")
            form.locator("[data-block-id=duration] input").fill("2d")
            form.get_by_role("button", name="Ask", exact=True).click()
            expect(page.locator("#modal-layer .modal")).to_have_count(0)  # the stack closed
            card.locator(".replies").click()
            thread = page.locator("#thread-messages")
            request = thread.locator(".message", has_text="asks to waive")
            expect(request).to_contain_text("Known outage, fix in 1.0.1")
            request.get_by_role("button", name="Approve waiver").click()
            refusal = page.locator(".message.ephemeral", has_text="can answer a waiver request")
            expect(refusal).to_be_visible()
            page.select_option("#user-select", "USEC")
            request.get_by_role("button", name="Approve waiver").click()
            expect(request).to_contain_text("Granted by")
            expect(card.get_by_role("button", name="Withdraw waiver")).to_be_visible()
            expect(thread).to_contain_text("granted the waiver")
            screenshot(thread, "waiver-thread")
            expect(card).to_contain_text("Waived:")
            expect(card).to_contain_text("waived by")
            assert_every_glyph_drawn(page, "body")
            screenshot(card, "waiver-card")
            page.locator("#switch-db input").uncheck()
        finally:
            browser.close()
