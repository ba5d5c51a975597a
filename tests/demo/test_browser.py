"""The demo in a real browser (Debian's chromium, driven by Playwright): a release from
`/readiness new` to its first post-deployment digest, every step through the page, as
each role in turn; then a person with no role is refused. Saves a screenshot of the
approved card; with README_SCREENSHOT=1 it refreshes docs/demo-approved.png, the one the
README shows (so a plain test run leaves the checkout clean)."""

from __future__ import annotations

import importlib.util
import os
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from tests.demo.conftest import ROOT, Demo

CHROMIUM = Path("/usr/bin/chromium")
# FIELD-NOTES: these flags, and never `playwright install` (it downloads a browser).
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
]
SCREENSHOT = ROOT / "docs" / "demo-approved.png"
ROLES = [
    ("UENG", "Engineering Lead"),
    ("UOPS", "DevOps Lead"),
    ("USEC", "Security Lead"),
    ("UPRD", "Product Owner"),
]
CTO = ("UCTO", "CTO/Engineering Manager")
# Tick, in the Checklist modal, every manual item this person's role owns (or anyone may).
TICK_MINE = """(title) => {
  let ticked = 0;
  for (const choice of document.querySelectorAll('#modal-layer .choice')) {
    const owner = (choice.querySelector('.choice-description') || {}).textContent || '';
    const box = choice.querySelector('input');
    if ((owner === 'Ticked by ' + title || owner === 'Any approver may tick') && !box.checked) {
      box.click();
      ticked += 1;
    }
  }
  return ticked;
}"""

pytestmark = [
    pytest.mark.skipif(
        not CHROMIUM.exists(), reason="needs Debian's chromium at /usr/bin/chromium"
    ),
    pytest.mark.skipif(
        importlib.util.find_spec("playwright") is None,
        reason="needs the playwright package (pip install -e '.[dev]')",
    ),
]


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
            run_the_release(page, demo, expect)
            assert not problems, problems
        finally:
            browser.close()


def run_the_release(page: Any, demo: Demo, expect: Any) -> None:
    page.goto(demo.url)
    expect(page.locator("#banner")).to_contain_text("local stand-in for a Slack workspace")

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

    for user, title in [*ROLES, CTO]:
        be(user)
        card.get_by_role("button", name="Checklist", exact=True).click()
        expect(modal).to_be_visible()
        page.evaluate(TICK_MINE, title)
        modal.get_by_role("button", name="Save").click()
        expect(modal).to_be_hidden()
    expect(card).to_contain_text("Readiness 100%", timeout=30_000)

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
    shot = (
        SCREENSHOT
        if os.environ.get("README_SCREENSHOT")
        else Path(tempfile.mkdtemp()) / "approved.png"
    )
    card.screenshot(path=str(shot))
    assert shot.stat().st_size > 10_000

    be("UOPS")
    card.get_by_role("button", name="Mark deployed").click()
    confirm = page.locator("#confirm-layer")
    expect(confirm).to_contain_text("Mark deployed?")
    confirm.get_by_role("button", name="Mark deployed").click()
    expect(card).to_contain_text("Deployed")
    digest = page.locator("#messages .message", has_text="Immediate (First Hour) digest")
    expect(digest).to_be_visible(timeout=30_000)
    expect(digest).to_contain_text("runs passed")

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
