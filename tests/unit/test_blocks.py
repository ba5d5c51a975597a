"""Block Kit is a pure function of domain values: check the card and the modals' output."""

from __future__ import annotations

import json
import textwrap
from datetime import UTC, datetime

from bot.config import AppConfig, parse_app_config
from bot.domain.model import ItemStatus, LatestResult, Release, ReleaseState, Signature, Tick
from bot.domain.view import build_view
from bot.services.signoff import SignIntent
from bot.slack import ids
from bot.slack.blocks.card import APPROVED_TEXT, card, card_text
from bot.slack.blocks.modals import checklist_modal, sign_modal
from checks import default_registry

T0 = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)
MANY = "\n".join(f"      - {{id: m{i}, title: Manual {i}, owner: eng}}" for i in range(13))
APP: AppConfig = parse_app_config(
    textwrap.dedent("""
    product: LUMINES/WIS2L
    roles:
      eng: {title: Engineering Lead, members: [UENG], attestations: [Reviewed, Tested]}
      cto: {title: CTO/Engineering Manager, members: [UCTO], final: true}
    sections:
      - id: infra
        title: Infrastructure Readiness
        items:
          - {id: health, title: Health <script>, check: {type: http, url: "http://x/h"}}
    """)
    + MANY
    + "\n",
    {},
    default_registry(),
)


def view(state: ReleaseState, signatures: list[Signature], ticks: dict[str, Tick] | None = None):
    release = Release(7, "LUMINES 1.0.0", "C1", state, "UREL", T0, ref="abc")
    results = {"health": LatestResult("health", ItemStatus.FAIL, "GET /h answered 503 <b>", T0)}
    return build_view(APP, release, signatures, [], results, ticks or {}, None)


def text(blocks: object) -> str:
    return json.dumps(blocks)


def test_open_card_offers_sign_buttons_and_escapes_reasons() -> None:
    blocks = card(view(ReleaseState.OPEN, []))
    actions = next(b for b in blocks if b["type"] == "actions")
    action_ids = [e["action_id"] for e in actions["elements"]]
    assert action_ids == ["sign:eng", "sign:cto", ids.RUN_CHECKS, ids.CHECKLIST, ids.MORE]
    assert ids.Ref.decode(actions["elements"][0]["value"]) == ids.Ref(r=7, role="eng")
    rendered = text(blocks)
    assert "answered 503 &lt;b&gt;" in rendered and "<b>" not in rendered
    assert APPROVED_TEXT not in rendered
    assert card_text(view(ReleaseState.OPEN, [])) == "LUMINES 1.0.0: 0% ready, open"


def test_approved_card_says_so_and_offers_no_sign_button() -> None:
    ticks = {f"m{i}": Tick(f"m{i}", "UENG", T0) for i in range(13)}
    signed = [Signature(1, "eng", "UENG", T0), Signature(2, "cto", "UCTO", T0)]
    approved = view(ReleaseState.APPROVED, signed, ticks)
    # health still fails: the view is not approved, whatever the stored state says
    assert APPROVED_TEXT not in text(card(approved))
    results = {"health": LatestResult("health", ItemStatus.PASS, "ok", T0)}
    release = Release(7, "LUMINES 1.0.0", "C1", ReleaseState.APPROVED, "UREL", T0)
    ok = build_view(APP, release, signed, [], results, ticks, None)
    blocks = card(ok)
    assert APPROVED_TEXT in text(blocks)
    assert not any(
        e["action_id"].startswith("sign:")
        for b in blocks
        if b["type"] == "actions"
        for e in b["elements"]
    )


def test_sign_modal_lists_attestations_within_limits() -> None:
    modal = sign_modal(SignIntent(view(ReleaseState.OPEN, []), "cto", APP.roles["cto"]))
    assert modal["callback_id"] == ids.SIGN_VIEW and len(modal["title"]["text"]) <= 24
    assert ids.Ref.decode(modal["private_metadata"]) == ids.Ref(r=7, role="cto")
    assert "final approval" in text(modal)
    eng = sign_modal(SignIntent(view(ReleaseState.OPEN, []), "eng", APP.roles["eng"]))
    attest = next(b for b in eng["blocks"] if b.get("block_id") == ids.ATTESTATIONS)
    assert [o["text"]["text"] for o in attest["element"]["options"]] == ["Reviewed", "Tested"]


def test_checklist_splits_manual_items_into_blocks_of_ten() -> None:
    modal = checklist_modal(
        view(ReleaseState.OPEN, [], {"m3": Tick("m3", "UENG", T0)}), {"eng": "Engineering Lead"}
    )
    inputs = [b for b in modal["blocks"] if b["type"] == "input"]
    assert [len(b["element"]["options"]) for b in inputs] == [10, 3]
    assert [o["value"] for o in inputs[0]["element"]["initial_options"]] == ["m3"]
    assert modal["submit"]["text"] == "Save"
    closed = checklist_modal(view(ReleaseState.CANCELLED, []), {})
    assert "submit" not in closed and not any(b["type"] == "input" for b in closed["blocks"])
