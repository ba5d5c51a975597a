"""Every emoji the page knows is drawn, in a browser with no emoji font (Debian's chromium
with fonts-dejavu-core, as a bare Debian has it): a badge from a DejaVu glyph, or a
picture shipped with the page where DejaVu has none (the hourglass of every unfinished
section). Saves a screenshot of them all (emoji.png)."""

from __future__ import annotations

from typing import Any

from tests.demo.browser import ARGS, CHROMIUM, NEEDS_BROWSER, assert_every_glyph_drawn, screenshot
from tests.demo.conftest import Demo

pytestmark = NEEDS_BROWSER

# Each shortcode three ways: in mrkdwn (nodes), as text (an <option>'s label), and written
# as the emoji character itself (a document's text); in a sheet over the page.
SHEET = """() => {
  const M = window.Mrkdwn;
  const sheet = document.createElement('div');
  sheet.id = 'emoji-sheet';
  sheet.className = 'dialog';
  Object.assign(sheet.style, {
    display: 'grid', gridTemplateColumns: 'repeat(3, minmax(0, 1fr))', gap: '2px 16px',
    width: '1060px', maxHeight: 'none', padding: '12px 16px',
  });
  for (const name of M.emojiNames) {
    const row = document.createElement('div');
    row.className = 'emoji-row';
    row.dataset.name = name;
    const label = document.createElement('code');
    label.textContent = name;
    const nodes = document.createElement('span');
    nodes.className = 'as-nodes';
    nodes.append(M.render(':' + name + ':'));
    const text = document.createElement('span');
    text.className = 'as-text';
    text.textContent = M.emojiText(':' + name + ':');
    const chars = document.createElement('span');
    chars.className = 'as-chars';
    chars.append(M.emojiChars(window.__emoji[name]));
    row.append(label, ' ', nodes, ' ', text, ' ', chars);
    sheet.append(row);
  }
  const layer = document.getElementById('confirm-layer');
  layer.replaceChildren(sheet);
  layer.hidden = false;
  return M.emojiNames.length;
}"""
# The characters of the page's map, read from its source (they are not exported).
CHARACTERS = """async () => {
  const source = await (await fetch('/demo/static/mrkdwn.js')).text();
  const start = source.indexOf('const EMOJI = {');
  const map = source.slice(start, source.indexOf('};', start));
  window.__emoji = {};
  for (const [, name, ch] of map.matchAll(/"?([a-z0-9_+-]+)"?: "([^"]+)"/g)) {
    window.__emoji[name] = ch;
  }
  return Object.keys(window.__emoji).length;
}"""
# What each row drew: a badge's glyph, or a picture (its CSS background, loaded).
DRAWN = """async () => {
  const out = [];
  for (const row of document.querySelectorAll('#emoji-sheet .emoji-row')) {
    const badges = [...row.querySelectorAll('.as-nodes .emoji, .as-chars .emoji')];
    const pictures = [];
    for (const badge of badges.filter((b) => b.classList.contains('e-pic'))) {
      const url = getComputedStyle(badge).backgroundImage.replace(/^url\\("?|"?\\)$/g, '');
      const image = new Image();
      image.src = url;
      await image.decode();
      const r = badge.getBoundingClientRect();
      pictures.push({ url, width: image.naturalWidth, shown: r.width > 8 && r.height > 8 });
    }
    out.push({
      name: row.dataset.name,
      badges: badges.length,
      text: row.querySelector('.as-text').textContent,
      pictures,
    });
  }
  return out;
}"""


def test_every_emoji_is_drawn_without_an_emoji_font(demo: Demo) -> None:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        try:
            page = browser.new_page(viewport={"width": 1100, "height": 900}, locale="en-US")
            page.goto(demo.url)
            page.wait_for_function("window.Mrkdwn !== undefined")
            if page.evaluate("window.Mrkdwn.colourEmoji()"):  # pragma: no cover - elsewhere
                return  # a colour emoji font draws them all: nothing to stand in for
            assert page.evaluate(CHARACTERS) == page.evaluate("window.Mrkdwn.emojiNames.length")
            count = page.evaluate(SHEET)
            assert count >= 80
            drawn: list[dict[str, Any]] = page.evaluate(DRAWN)
            for row in drawn:
                name = row["name"]
                assert row["badges"] == 2, f":{name}: is not drawn as a badge"
                assert not row["text"].startswith(":"), name
                for picture in row["pictures"]:
                    assert picture["url"].endswith(".svg") and picture["width"] > 0, row
                    assert picture["shown"], row
            hourglass = next(row for row in drawn if row["name"] == "hourglass_flowing_sand")
            assert [p["url"].rsplit("/", 1)[1] for p in hourglass["pictures"]] == [
                "hourglass.svg"
            ] * 2
            assert_every_glyph_drawn(page, "#emoji-sheet")
            screenshot(page.locator("#emoji-sheet"), "emoji")
        finally:
            browser.close()
