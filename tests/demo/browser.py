"""What the browser tests share: Debian's chromium driven by Playwright (skipped, saying
why, where either is missing), where their screenshots go, and the check that every
character the page shows is drawn by a font (no empty boxes)."""

from __future__ import annotations

import functools
import importlib.util
import os
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Any

import pytest

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
NEEDS_BROWSER = [
    pytest.mark.skipif(
        not CHROMIUM.exists(), reason="needs Debian's chromium at /usr/bin/chromium"
    ),
    pytest.mark.skipif(
        importlib.util.find_spec("playwright") is None,
        reason="needs the playwright package (pip install -e '.[dev]')",
    ),
]
# The fonts a bare Debian is sure to have: fontconfig depends on fonts-dejavu-core. Others
# found here (fonts-glyphicons-halflings, which prometheus brings) may be missing there.
DEJAVU = Path("/usr/share/fonts/truetype/dejavu")
DEJAVU_CORE = tuple(
    DEJAVU / f"DejaVu{face}.ttf"
    for face in ("Sans", "Sans-Bold", "SansMono", "SansMono-Bold", "Serif", "Serif-Bold")
)


@functools.cache
def shots() -> Path:
    """Where the screenshots go: $DEMO_SCREENSHOTS, or a new temporary directory."""
    where = os.environ.get("DEMO_SCREENSHOTS")
    path = Path(where) if where else Path(tempfile.mkdtemp(prefix="readiness-demo-shots-"))
    path.mkdir(parents=True, exist_ok=True)
    return path


def screenshot(target: Any, name: str) -> Path:
    """Save a screenshot of a page or a locator as `name`.png; returns its path."""
    path = shots() / f"{name}.png"
    target.screenshot(path=str(path))
    assert path.stat().st_size > 2_000, path
    return path


@functools.cache
def core_ranges() -> tuple[tuple[int, int], ...] | None:
    """The code points fonts-dejavu-core draws (fc-query), or None where it can't be told."""
    fc_query = shutil.which("fc-query")
    if fc_query is None or not all(font.is_file() for font in DEJAVU_CORE):
        return None
    ranges: list[tuple[int, int]] = []
    for font in DEJAVU_CORE:
        out = subprocess.run(
            [fc_query, "--format=%{charset}", str(font)],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        for part in out.split():
            first, _, last = part.partition("-")
            ranges.append((int(first, 16), int(last or first, 16)))
    return tuple(ranges)


# Every character under `selector`, and those the browser draws as its missing-glyph box:
# drawn on a canvas in the page's font, regular and bold, each is compared with a code
# point no font has (U+0378, unassigned). Marks, format and space characters draw nothing.
GLYPHS = r"""(selector) => {
  const root = document.querySelector(selector);
  const chars = [...new Set([...root.textContent])]
    .filter((c) => !/[\s\p{M}\p{Cf}\p{Cc}]/u.test(c));
  const canvas = document.createElement('canvas');
  canvas.width = canvas.height = 40;
  const g = canvas.getContext('2d', { willReadFrequently: true });
  const family = getComputedStyle(document.body).fontFamily;
  const draw = (c, weight) => {
    g.clearRect(0, 0, 40, 40);
    g.font = `${weight} 28px ${family}`;
    g.textBaseline = 'top';
    g.fillText(c, 4, 4);
    return g.getImageData(0, 0, 40, 40).data.join(',');
  };
  const boxes = [];
  for (const weight of ['400', '900']) {
    const box = draw('\u0378', weight);
    for (const c of chars) {
      if (draw(c, weight) === box) boxes.push(`${c} U+${c.codePointAt(0).toString(16)}`);
    }
  }
  return { chars, boxes: [...new Set(boxes)], colour: window.Mrkdwn.colourEmoji() };
}"""


def assert_every_glyph_drawn(page: Any, selector: str) -> list[str]:
    """No character under `selector` is an empty box, here or on a bare Debian (whose
    only fonts are fonts-dejavu-core) unless it has a colour emoji font. Returns them."""
    found = page.evaluate(GLYPHS, selector)
    assert not found["boxes"], f"drawn as empty boxes under {selector}: {found['boxes']}"
    ranges = core_ranges()
    if ranges is not None and not found["colour"]:
        elsewhere = [
            f"{c} U+{ord(c):04X}"
            for c in found["chars"]
            if not any(first <= ord(c) <= last for first, last in ranges)
        ]
        assert not elsewhere, f"not in fonts-dejavu-core, under {selector}: {elsewhere}"
    return list(found["chars"])
