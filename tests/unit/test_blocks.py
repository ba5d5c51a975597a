"""Block Kit is a pure function of domain values: check the card and the modals' output."""

from __future__ import annotations

import json
import re
import textwrap
from dataclasses import replace
from datetime import UTC, datetime, timedelta

from bot.config import parse_app_config
from bot.domain.authorization import MAX_ROLLBACK_PLAN, DeploymentPlan
from bot.domain.checklist import AppConfig
from bot.domain.model import (
    ItemStatus,
    LatestResult,
    Rejection,
    Release,
    ReleaseState,
    Signature,
    Tick,
)
from bot.domain.monitoring import Decision
from bot.domain.view import build_view
from bot.fake_slack.blockkit import message_problems, view_problems
from bot.fake_slack.limits import blocks_text_length, check_message
from bot.services.signoff import SignIntent
from bot.slack import ids
from bot.slack.blocks.card import APPROVED_TEXT, card, card_text, post_deploy_lines
from bot.slack.blocks.checklist import checklist_modal
from bot.slack.blocks.messages import status_blocks
from bot.slack.blocks.modals import sign_modal
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


def signed_by(n: int, role: str, user: str) -> Signature:
    """A signature given on the release's current evidence (its ref, this checklist)."""
    return Signature(n, role, user, T0, evidence={"ref": "abc", "config_version": APP.version})


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


def test_the_primary_button_is_the_final_approval_only_once_it_can_be_given() -> None:
    def styles(signed: list[Signature], results: dict[str, LatestResult]) -> dict[str, str]:
        release = Release(7, "LUMINES 1.0.0", "C1", ReleaseState.OPEN, "UREL", T0, ref="abc")
        ticks = {f"m{i}": Tick(f"m{i}", "UENG", T0) for i in range(13)}
        shown = card(build_view(APP, release, signed, [], results, ticks, None))
        actions = next(b for b in shown if b["type"] == "actions")
        return {e["action_id"]: e.get("style", "") for e in actions["elements"]}

    passing = {"health": LatestResult("health", ItemStatus.PASS, "ok", T0)}
    assert styles([], passing)["sign:cto"] == ""  # the others must sign first
    eng = [signed_by(1, "eng", "UENG")]
    assert styles(eng, {})["sign:cto"] == ""  # a blocking item fails: it would be refused
    assert styles(eng, passing)["sign:cto"] == "primary"


def test_a_ci_runs_link_cannot_set_its_own_label() -> None:
    release = Release(7, "LUMINES 1.0.0", "C1", ReleaseState.OPEN, "UREL", T0, ref="abc")
    sneaky = "https://ci.example/run?x=1|Click me>"
    pushed = LatestResult("health", ItemStatus.FAIL, "failed", T0, url=sneaky)
    modal = checklist_modal(
        APP, build_view(APP, release, [], [], {"health": pushed}, {}, None), ENG
    )
    assert "<https://ci.example/run?x=1%7CClick me&gt;|CI run>" in text(modal)


def test_approved_card_says_so_and_offers_no_sign_button() -> None:
    ticks = {f"m{i}": Tick(f"m{i}", "UENG", T0) for i in range(13)}
    signed = [signed_by(1, "eng", "UENG"), signed_by(2, "cto", "UCTO")]
    approved = view(ReleaseState.APPROVED, signed, ticks)
    # health still fails: the view is not approved, whatever the stored state says
    assert APPROVED_TEXT not in text(card(approved))
    results = {"health": LatestResult("health", ItemStatus.PASS, "ok", T0)}
    release = Release(7, "LUMINES 1.0.0", "C1", ReleaseState.APPROVED, "UREL", T0, ref="abc")
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


ENG = frozenset({"eng"})


def checkboxes(modal: dict[str, object]) -> list[dict[str, object]]:
    blocks = modal["blocks"]
    assert isinstance(blocks, list)
    return [b["elements"][0] for b in blocks if str(b.get("block_id")).startswith("manual:")]


def test_checklist_splits_my_items_into_blocks_of_ten_without_optional_labels() -> None:
    modal = checklist_modal(APP, view(ReleaseState.OPEN, [], {"m3": Tick("m3", "UENG", T0)}), ENG)
    assert view_problems(modal) == []
    mine = checkboxes(modal)
    assert [len(e["options"]) for e in mine] == [10, 3]  # type: ignore[arg-type]
    assert [o["value"] for o in mine[0]["initial_options"]] == ["m3"]  # type: ignore[union-attr]
    assert not any(b["type"] == "input" for b in modal["blocks"])  # no "(optional)" heading
    assert "Health" in text(modal)  # what is failing comes first too
    assert modal["submit"]["text"] == "Save"
    closed = checklist_modal(APP, view(ReleaseState.CANCELLED, []), ENG)
    assert "submit" not in closed and checkboxes(closed) == []


def test_the_checklist_shows_other_roles_items_read_only_and_picks_sections() -> None:
    shown = view(ReleaseState.OPEN, [], {"m3": Tick("m3", "UENG", T0)})
    cto = checklist_modal(APP, shown, frozenset({"cto"}))
    assert checkboxes(cto) == [] and "submit" not in cto  # nothing of theirs to tick
    assert "Manual 3" not in text(cto)  # their first page: their items and what fails
    picker = next(b for b in cto["blocks"] if b.get("block_id") == ids.CHECKLIST_SECTION)
    options = picker["elements"][0]["options"]
    assert [o["value"] for o in options] == ["mine", "infra"]
    infra = checklist_modal(APP, shown, frozenset({"cto"}), "infra")
    assert checkboxes(infra) == [] and view_problems(infra) == []
    assert "Manual 3 \\u00b7 ticked by <@UENG>" in text(infra)  # (JSON-escaped)
    assert "Engineering Lead ticks it" in text(infra)
    assert ids.Ref.decode(infra["private_metadata"]) == ids.Ref(r=7, s="infra")


# --- section 10: the final approver's modal and the approved card ---------------------------

PASSING = {"health": LatestResult("health", ItemStatus.PASS, "ok", T0)}
ALL_TICKED = {f"m{i}": Tick(f"m{i}", "UENG", T0) for i in range(13)}
SIGNED = [signed_by(1, "eng", "UENG"), signed_by(2, "cto", "UCTO")]
WINDOW = (datetime(2026, 12, 1, 10, 0, tzinfo=UTC), datetime(2026, 12, 1, 12, 0, tzinfo=UTC))


def recorded(state: ReleaseState = ReleaseState.APPROVED, **fields: object) -> Release:
    base = Release(
        7,
        "LUMINES 1.0.0",
        "C1",
        state,
        "UREL",
        T0,
        ref="abc",
        approved_at=T0,
        window_start=WINDOW[0],
        window_end=WINDOW[1],
        deploy_team=("UOPS", "UCTO"),
        rollback_plan="helm rollback lumines <41> & https://runbooks.example/rollback",
    )
    return replace(base, **fields)  # type: ignore[arg-type]


def approved_view(release: Release, results: dict[str, LatestResult] | None = None):
    return build_view(APP, release, SIGNED, [], results or PASSING, ALL_TICKED, None)


def element_of(blocks: list[dict], block_id: str) -> dict:
    return next(b for b in blocks if b.get("block_id") == block_id)["element"]


def test_final_sign_modal_asks_for_section_10_prefilled() -> None:
    plan = DeploymentPlan(WINDOW[0], WINDOW[1], ("UOPS",), "helm rollback lumines")
    intent = SignIntent(view(ReleaseState.OPEN, []), "cto", APP.roles["cto"], plan)
    modal = sign_modal(intent)
    assert view_problems(modal) == []
    blocks = modal["blocks"]
    start, end = element_of(blocks, ids.WINDOW_START), element_of(blocks, ids.WINDOW_END)
    assert start == {
        "type": "datetimepicker",
        "action_id": ids.VALUE,
        "initial_date_time": int(WINDOW[0].timestamp()),
    }
    assert end["initial_date_time"] == int(WINDOW[1].timestamp())
    team = element_of(blocks, ids.DEPLOY_TEAM)
    assert team["type"] == "multi_users_select" and team["initial_users"] == ["UOPS"]
    rollback = element_of(blocks, ids.ROLLBACK_PLAN)
    assert rollback["type"] == "plain_text_input" and rollback["multiline"] is True
    assert rollback["initial_value"] == "helm rollback lumines"
    assert rollback["max_length"] == MAX_ROLLBACK_PLAN
    required = [b["block_id"] for b in blocks if b["type"] == "input" and not b.get("optional")]
    assert required == [
        ids.WINDOW_START,
        ids.WINDOW_END,
        ids.DEPLOY_TEAM,
        ids.ROLLBACK_PLAN,
    ]  # the CTO role in APP has no attestations


def test_final_sign_modal_without_anything_known_leaves_fields_empty() -> None:
    modal = sign_modal(SignIntent(view(ReleaseState.OPEN, []), "cto", APP.roles["cto"]))
    assert view_problems(modal) == []
    assert "initial_date_time" not in element_of(modal["blocks"], ids.WINDOW_START)
    assert "initial_users" not in element_of(modal["blocks"], ids.DEPLOY_TEAM)
    assert "initial_value" not in element_of(modal["blocks"], ids.ROLLBACK_PLAN)


def test_other_roles_sign_without_section_10() -> None:
    modal = sign_modal(SignIntent(view(ReleaseState.OPEN, []), "eng", APP.roles["eng"]))
    block_ids = {b.get("block_id") for b in modal["blocks"]}
    assert not block_ids & {ids.WINDOW_START, ids.WINDOW_END, ids.DEPLOY_TEAM, ids.ROLLBACK_PLAN}


def test_approved_card_shows_section_10_in_full_and_mark_deployed() -> None:
    blocks = card(approved_view(recorded()))
    assert message_problems(blocks) == []
    rendered = text(blocks)
    assert f"*Deployment authorization:* :white_check_mark: *{APPROVED_TEXT}*" in rendered
    for condition in (
        "All required approvals received",
        "All blocking checks passing",
        "Final approval by CTO/Engineering Manager",
        "No open rejection",
    ):
        assert f":white_check_mark: {condition}" in rendered
    start, end = (int(at.timestamp()) for at in WINDOW)
    assert f"<!date^{start}^{{date_short_pretty}} {{time}}|2026-12-01 10:00 UTC>" in rendered
    assert f"<!date^{end}^" in rendered and "(planned)" not in rendered
    assert "*Deployment team:* <@UOPS>, <@UCTO>" in rendered
    assert "> helm rollback lumines &lt;41&gt; &amp; https://runbooks.example/rollback" in rendered
    actions = next(b for b in blocks if b["type"] == "actions")
    deploy = actions["elements"][0]
    assert deploy["action_id"] == ids.DEPLOYED and deploy["style"] == "primary"
    assert ids.Ref.decode(deploy["value"]) == ids.Ref(r=7)
    assert deploy["confirm"]["confirm"]["text"] == "Mark deployed"


def test_suspended_card_says_no_and_why_without_mark_deployed() -> None:
    failing = {"health": LatestResult("health", ItemStatus.FAIL, "answered 503", T0)}
    blocks = card(approved_view(recorded(ReleaseState.SUSPENDED), failing))
    assert message_problems(blocks) == []
    rendered = text(blocks)
    # One answer, saying why: no second line repeating "not approved".
    assert "*Deployment authorization:* :warning: not approved: suspended: a blocking item" in (
        rendered
    )
    assert "Approved for Production Deployment" not in rendered
    assert ":white_circle: All blocking checks passing" in rendered
    assert ids.DEPLOYED not in rendered
    assert "*Deployment team:* <@UOPS>, <@UCTO>" in rendered  # the record is kept


def test_open_card_shows_a_planned_window_and_why_not_approved() -> None:
    release = replace(
        recorded(ReleaseState.OPEN), approved_at=None, deploy_team=(), rollback_plan=None
    )
    blocks = card(build_view(APP, release, [], [], PASSING, {}, None))
    assert message_problems(blocks) == []
    rendered = text(blocks)
    assert "(planned)" in rendered and "Deployment team" not in rendered
    assert (
        "*Deployment authorization:* :white_circle: not approved: waiting for Engineering Lead"
        in (rendered)
    )
    assert ids.DEPLOYED not in rendered


def test_rejected_card_names_the_rejecter_once_escaped() -> None:
    release = replace(recorded(ReleaseState.BLOCKED), window_start=None, window_end=None)
    rejection = Rejection(1, "USEC", "pen test <!channel>", T0)
    blocks = card(build_view(APP, release, SIGNED[:1], [rejection], PASSING, ALL_TICKED, None))
    rendered = text(blocks)
    assert "rejected by <@USEC>" in rendered and "<!channel>" not in rendered


def test_a_long_rollback_plan_is_bounded() -> None:
    plan = "\n".join(["step & <check> " * 6] * 40)[:MAX_ROLLBACK_PLAN]
    blocks = card(approved_view(recorded(rollback_plan=plan)))
    assert message_problems(blocks) == []
    record = next(b for b in blocks if "*Rollback plan:*" in b.get("text", {}).get("text", ""))
    shown = record["text"]["text"]
    assert len(shown) < 3000 and shown.endswith("…")
    assert "&am…" not in shown and "&amp;" in shown


def test_approved_without_a_record_says_not_recorded() -> None:
    release = replace(
        recorded(), window_start=None, window_end=None, deploy_team=(), rollback_plan=None
    )
    rendered = text(card(approved_view(release)))
    assert rendered.count("_not recorded_") == 3


def test_deployed_card_says_when_and_by_whom() -> None:
    deployed_at = datetime(2026, 12, 1, 10, 30, tzinfo=UTC)
    release = recorded(ReleaseState.DEPLOYED, deployed_at=deployed_at, deployed_by="UOPS")
    shipped = approved_view(release)
    blocks = card(shipped)
    assert message_problems(blocks) == []
    rendered = text(blocks)
    assert f":rocket: *Deployed* <!date^{int(deployed_at.timestamp())}^" in rendered
    assert "by <@UOPS>" in rendered
    assert f"*Deployment authorization:* :white_check_mark: *{APPROVED_TEXT}*" in rendered
    assert not any(b["type"] == "actions" for b in blocks)
    assert card_text(shipped) == "LUMINES 1.0.0: 100% ready, deployed"
    assert post_deploy_lines(shipped) == []
    by_api = card(approved_view(replace(release, deployed_by="ci-<pipeline>")))
    assert "by ci-&lt;pipeline&gt;" in text(by_api) and "<@ci-" not in text(by_api)


def test_a_rolled_back_release_says_so_and_every_breaching_item_is_counted() -> None:
    deployed_at = datetime(2026, 12, 1, 10, 30, tzinfo=UTC)
    release = recorded(ReleaseState.MONITORING, deployed_at=deployed_at, deployed_by="UOPS")
    shipped = approved_view(release)
    assert shipped.facts is not None
    breaking = tuple(f"m{i}" for i in range(13))
    decided = Decision("UCTO", deployed_at)
    rolled = shipped.changed(APP, breaching=breaking, rollback=decided)
    rendered = text(card(rolled))
    assert "*State:* :leftwards_arrow_with_hook: Rolled back" in rendered
    assert ":leftwards_arrow_with_hook: *Rolled back* by <@UCTO> <!date^" in rendered
    assert "*Breaching now:* Manual 0, Manual 1" in rendered
    assert "Manual 9, \\u2026and 3 more" in rendered  # none left out silently (JSON-escaped)


def test_a_pushed_ci_result_links_its_run_in_the_checklist() -> None:
    release = Release(7, "LUMINES 1.0.0", "C1", ReleaseState.OPEN, "UREL", T0, ref="abc")
    pushed = LatestResult("health", ItemStatus.FAIL, "3 tests failed", T0, url="https://ci/r/1")
    modal = checklist_modal(
        APP, build_view(APP, release, [], [], {"health": pushed}, {}, None), ENG
    )
    assert view_problems(modal) == []
    assert "3 tests failed" in text(modal) and "<https://ci/r/1|CI run>" in text(modal)


def test_45_rejections_keep_the_card_within_slacks_limits_and_name_the_newest() -> None:
    """~42 rejections, one section each, once made every later chat.update invalid. The
    card, the status reply and the mention reply (not private) all hold."""
    release = replace(recorded(ReleaseState.BLOCKED), rollback_plan="&" * MAX_ROLLBACK_PLAN)
    rejections = [
        Rejection(n, f"U{n:05d}", "<@UBOSS> & " + "x&<" * 200, T0 + timedelta(minutes=n))
        for n in range(45)
    ]
    shown = build_view(APP, release, SIGNED, rejections, PASSING, ALL_TICKED, None)
    for blocks in (card(shown), status_blocks(shown), status_blocks(shown, private=False)):
        check_message(card_text(shown), blocks)  # 50 blocks, 12,000 characters of text
        assert blocks_text_length(blocks) <= 12_000
        rendered = text(blocks)
        assert "*Rejected by <@U00044>*" in rendered  # the newest
        assert "\\u2026and 40 more rejections" in rendered  # (JSON-escaped)
        assert "<@UBOSS>" not in rendered and "&amp;" in rendered  # typed, escaped
        assert not re.search(r"&[a-z]*…", rendered)  # never cut inside an escape
