"""The change freeze on the card (the reason, `Deploy during freeze…`, an exception's
line), its modal, and `/readiness freezes`: valid Block Kit, escaped."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import timedelta

from bot.domain.freezes import Freeze, FreezeException, current, upcoming
from bot.domain.model import ItemStatus, LatestResult, Release, ReleaseState, Tick
from bot.domain.view import Facts, view_of
from bot.fake_slack.blockkit import message_problems, view_problems
from bot.services.freezes import FreezeList
from bot.slack import ids
from bot.slack.blocks.card import APPROVED_TEXT, card
from bot.slack.blocks.freezes import freezes_blocks
from bot.slack.blocks.modals import freeze_exception_modal
from tests.unit.test_blocks import APP, T0, signed_by

FIX = Freeze.model_validate(
    {
        "id": "fx",
        "title": "Fix <now>",
        "from": T0 - timedelta(hours=1),
        "to": T0 + timedelta(hours=2),
    }
)
FROZEN = APP.model_copy(update={"freezes": [FIX]})


def facts(exceptions: tuple[FreezeException, ...] = ()) -> Facts:
    release = Release(7, "LUMINES 1.0.0", "C1", ReleaseState.APPROVED, "UREL", T0, ref="abc")
    ticks = {f"m{i}": Tick(f"m{i}", "UENG", T0) for i in range(13)}
    results = {"health": LatestResult("health", ItemStatus.PASS, "ok", T0)}
    signed = (signed_by(1, "eng", "UENG"), signed_by(2, "cto", "UCTO"))
    return Facts(release, signed, (), results, ticks, exceptions=exceptions, now=T0)


def action_ids(blocks: list[dict[str, object]]) -> list[str]:
    actions = next(b for b in blocks if b["type"] == "actions")
    return [e["action_id"] for e in actions["elements"]]  # type: ignore[index, union-attr]


def test_a_frozen_card_says_why_and_offers_the_exception_not_mark_deployed() -> None:
    view = view_of(FROZEN, facts())
    blocks = card(view)
    shown = json.dumps(blocks)
    assert "change freeze: Fix &lt;now&gt; until" in shown
    assert APPROVED_TEXT not in shown
    assert ids.FREEZE_EXCEPTION in action_ids(blocks) and ids.DEPLOYED not in action_ids(blocks)
    assert message_problems(blocks) == []
    modal = freeze_exception_modal(view)
    assert modal["callback_id"] == ids.FREEZE_VIEW and view_problems(modal) == []


def test_an_exception_shows_on_the_card_and_mark_deployed_returns() -> None:
    granted = FreezeException("fx", T0 + timedelta(hours=2), "UCTO", "CVE <fix>", T0, "Fix <now>")
    blocks = card(view_of(FROZEN, facts((granted,))))
    shown = json.dumps(blocks)
    assert APPROVED_TEXT in shown
    assert "*Deploy during freeze:* Fix &lt;now&gt; until" in shown and "CVE &lt;fix&gt;" in shown
    assert ids.DEPLOYED in action_ids(blocks) and ids.FREEZE_EXCEPTION not in action_ids(blocks)
    assert message_problems(blocks) == []


def test_freezes_lists_now_and_next() -> None:
    weekly = Freeze.model_validate(
        {"id": "wk", "title": "Weekend", "cron": "0 18 * * FRI", "duration": "62h"}
    )
    freezes = [*FROZEN.freezes, weekly]
    blocks = freezes_blocks("LUMINES", FreezeList(current(freezes, T0), upcoming(freezes, T0)))
    shown = json.dumps(blocks)
    assert "*Now*" in shown and "Fix &lt;now&gt;" in shown and "*Weekend* (`wk`)" in shown
    assert message_problems(blocks) == []
    quiet = freezes_blocks("LUMINES", FreezeList([], []))
    assert "No change freeze covers now." in json.dumps(quiet)


def test_a_view_read_without_a_clock_judges_no_freeze() -> None:
    assert view_of(FROZEN, replace(facts(), now=None)).authorization.approved
