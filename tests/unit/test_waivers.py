"""Waivers as values: what counts while one is in force, when it ends, the staleness it
brings, the rules of asking and answering, and how Slack shows them (valid, escaped)."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from bot.config import ConfigError, parse_app_config
from bot.domain.errors import InvalidInput, InvalidState, NotAuthorized
from bot.domain.model import ItemStatus, LatestResult, Release, ReleaseState, Tick
from bot.domain.notices import WaiverRequestNow
from bot.domain.view import Facts, view_of
from bot.domain.waiver_rules import (
    BadDuration,
    check_can_answer,
    check_can_request,
    parse_for,
    request_notice,
)
from bot.domain.waivers import Waiver, WaiverState
from bot.fake_slack.blockkit import message_problems, view_problems
from bot.fake_slack.limits import check_message
from bot.slack import ids
from bot.slack.blocks.card import card, card_text
from bot.slack.blocks.checklist import checklist_modal
from bot.slack.blocks.waivers import deny_modal, request_blocks, request_modal
from bot.slack.listeners.commands import check_options, parse
from checks import default_registry
from tests.unit.test_blocks import APP, T0, signed_by

DAY = timedelta(days=1)


def waiver(state: WaiverState = WaiverState.GRANTED, **changed: object) -> Waiver:
    fields: dict[str, object] = {
        "id": 3,
        "item_id": "health",
        "requested_by": "UENG",
        "reason": "Known <outage>",
        "duration": 2 * DAY,
        "requested_at": T0,
        "ref": "abc",
        "state": state,
        "item_title": "Health <script>",
    }
    if state is not WaiverState.REQUESTED:
        fields.update(decided_by="UCTO", decided_at=T0, expires_at=T0 + 2 * DAY)
    fields.update(changed)
    return Waiver(**fields)  # type: ignore[arg-type]


def facts(
    *waivers: Waiver,
    now: object = T0,
    state: ReleaseState = ReleaseState.OPEN,
    signed: tuple[object, ...] = (),
) -> Facts:
    release = Release(7, "LUMINES 1.0.0", "C1", state, "UREL", T0, ref="abc")
    ticks = {f"m{i}": Tick(f"m{i}", "UENG", T0) for i in range(13)}
    results = {"health": LatestResult("health", ItemStatus.FAIL, "HTTP 503", T0)}
    return Facts(release, signed, (), results, ticks, waivers=waivers, now=now)  # type: ignore[arg-type]


def health(f: Facts):  # type: ignore[no-untyped-def]
    view = view_of(APP, f)
    return view, next(v for v in view.readiness.items if v.item.id == "health")


def test_a_waiver_in_force_counts_the_item_but_shows_it_waived() -> None:
    view, item = health(facts(waiver()))
    assert item.passing and item.waived and item.status is ItemStatus.FAIL
    assert view.readiness.percent == 100 and view.readiness.blocking_pass


@pytest.mark.parametrize(
    ("given", "now", "ended"),
    [
        (waiver(), T0 + 2 * DAY, "expired"),
        (waiver(ref="old"), T0, "ended when the ref changed"),
        (waiver(WaiverState.WITHDRAWN, ended_at=T0, ended_by="UCTO"), T0, "was withdrawn"),
    ],
)
def test_an_ended_waiver_counts_no_more_and_the_gate_names_it(
    given: Waiver, now: object, ended: str
) -> None:
    view, item = health(facts(given, now=now))
    assert not item.passing and not item.waived
    said = [str(r.phrase()) for r in view.authorization.reasons]
    assert any(s.startswith(f"the waiver of Health <script> {ended}") for s in said), said


def test_a_request_or_a_denial_counts_for_nothing() -> None:
    for given in (waiver(WaiverState.REQUESTED), waiver(WaiverState.DENIED, denial="no")):
        view, item = health(facts(given))
        assert not item.passing
        assert not [r for r in view.authorization.reasons if r.kind == "waiver_ended"]


def test_a_signature_given_before_the_grant_is_stale_one_given_with_it_is_not() -> None:
    before = signed_by(1, "eng", "UENG")
    with_it = signed_by(2, "cto", "UCTO")
    with_it.evidence["waivers"] = [3]
    view = view_of(APP, facts(waiver(), signed=(before, with_it)))
    assert [s.signature.user_id for s in view.stale] == ["UENG"]
    assert str(view.stale[0].staleness.phrase()) == "Health <script> was waived after it was given"
    APP.roles["eng"].stale_on = ["ref", "config"]
    try:
        assert view_of(APP, facts(waiver(), signed=(before,))).stale == ()
    finally:
        APP.roles["eng"].stale_on = ["ref", "config", "waiver"]
    # Once the waiver ends, the signature given before it counts again.
    assert view_of(APP, facts(waiver(), now=T0 + 3 * DAY, signed=(before,))).stale == ()


def test_the_rules_of_asking() -> None:
    view = view_of(APP, facts())
    held = frozenset({"eng"})
    assert parse_for("12h", APP) == timedelta(hours=12)
    with pytest.raises(InvalidInput, match="at most 30d"):
        parse_for("31d", APP)
    with pytest.raises(InvalidInput, match="how long"):
        parse_for(None, APP)
    asked = check_can_request(APP, view, "health", held, DAY, " Known\u202e ")
    assert asked.reason == "Known"
    with pytest.raises(NotAuthorized):
        check_can_request(APP, view, "health", frozenset(), DAY, "x")
    with pytest.raises(InvalidState, match="passing"):
        check_can_request(APP, view, "m1", held, DAY, "x")
    shut = APP.model_copy(deep=True)
    shut.sections[0].items[0].waivable = False
    with pytest.raises(InvalidState, match="can't be waived"):
        check_can_request(shut, view_of(shut, facts()), "health", held, DAY, "x")
    in_force = view_of(APP, facts(waiver()))
    with pytest.raises(InvalidState, match="already waived"):
        check_can_request(APP, in_force, "health", held, DAY, "x")


def test_the_rules_of_answering() -> None:
    asked = waiver(WaiverState.REQUESTED)
    view = view_of(APP, facts(asked))
    with pytest.raises(NotAuthorized, match="Only the CTO/Engineering Manager"):
        check_can_answer(APP, view, asked, "UENG2", frozenset({"eng"}), True, None)
    with pytest.raises(NotAuthorized, match="another approver"):
        check_can_answer(APP, view, asked, "UENG", frozenset({"cto"}), True, None)
    with pytest.raises(InvalidInput, match="reason"):
        check_can_answer(APP, view, asked, "UCTO", frozenset({"cto"}), False, "")
    assert check_can_answer(APP, view, asked, "UCTO", frozenset({"cto"}), True, None) is None
    done = waiver()
    with pytest.raises(InvalidState, match="already granted"):
        check_can_answer(APP, view_of(APP, facts(done)), done, "UCTO", frozenset({"cto"}), True, "")


def test_config_names_only_roles_as_approvers_and_waivable_is_not_signed() -> None:
    base = "product: P\nroles:\n  cto: {title: CTO, members: [U1], final: true}\n"
    items = "sections:\n  - id: s\n    title: S\n    items:\n      - {id: a, title: A%s}\n"
    with pytest.raises(ConfigError, match=r"waivers\.approvers names no role: qa"):
        parse_app_config(base + "waivers: {approvers: [qa]}\n" + items % "", {}, default_registry())
    plain = parse_app_config(base + items % "", {}, default_registry())
    shut = parse_app_config(base + items % ", waivable: false", {}, default_registry())
    assert plain.version == shut.version  # nobody's signature goes stale over it
    assert plain.waiver_approvers == ["cto"]


def test_the_card_and_the_checklist_show_it_waived_escaped_and_valid() -> None:
    view = view_of(APP, facts(waiver(), waiver(WaiverState.REQUESTED, id=4, item_id="m1")))
    blocks = card(view)
    shown = json.dumps(blocks)
    assert "*Waived:*" in shown and "*waived* by <@UCTO> until <!date^" in shown
    assert "Known &lt;outage&gt;" in shown and "latest: fail: HTTP 503" in shown
    assert message_problems(blocks) == []
    (withdraw,) = [b["accessory"] for b in blocks if "accessory" in b]
    assert ids.Ref.decode(withdraw["value"]) == ids.Ref(r=7, w=3)
    assert withdraw["action_id"] == ids.WAIVER_WITHDRAW
    modal = checklist_modal(APP, view, frozenset({"eng"}))
    assert ids.WAIVER_ASK not in json.dumps(modal)  # waived: nothing to ask
    assert view_problems(modal) == []


def test_the_checklist_offers_request_waiver_on_a_failing_item_to_approvers() -> None:
    view = view_of(APP, facts())
    modal = checklist_modal(APP, view, frozenset({"eng"}))
    asks = [b["accessory"] for b in modal["blocks"] if "accessory" in b]
    assert [a["action_id"] for a in asks] == [ids.WAIVER_ASK]
    assert ids.Ref.decode(asks[0]["value"]) == ids.Ref(r=7, i="health")
    assert view_problems(modal) == []
    assert ids.WAIVER_ASK not in json.dumps(checklist_modal(APP, view, frozenset()))
    asked = view_of(APP, facts(waiver(WaiverState.REQUESTED)))
    assert ids.WAIVER_ASK not in json.dumps(checklist_modal(APP, asked, frozenset({"eng"})))


def test_the_request_in_the_thread_and_its_forms() -> None:
    asked = waiver(WaiverState.REQUESTED)
    notice = request_notice(APP, 7, asked)
    assert notice.members == ("UCTO",) and notice.approvers == ("CTO/Engineering Manager",)
    for state, buttons in (
        (None, [ids.WAIVER_APPROVE, ids.WAIVER_DENY]),
        (WaiverState.GRANTED, []),
        (WaiverState.DENIED, []),
        (WaiverState.EXPIRED, []),
    ):
        shown = None if state is None else waiver(state, denial="Fix <it>")
        blocks = request_blocks(notice, shown)
        found = [e["action_id"] for b in blocks if b["type"] == "actions" for e in b["elements"]]
        assert found == buttons, state
        assert message_problems(blocks) == []
        assert "<outage>" not in json.dumps(blocks)
    gone = request_blocks(notice, asked, "the release was <deployed>")
    assert "actions" not in [b["type"] for b in gone] and message_problems(gone) == []
    assert ":x: Unanswered: the release was &lt;deployed&gt;" in json.dumps(gone)
    view = view_of(APP, facts(asked))
    item = APP.items[0]
    for modal in (request_modal(APP, view, item), deny_modal(view, asked)):
        assert view_problems(modal) == []
    assert ids.Ref.decode(deny_modal(view, asked)["private_metadata"]) == ids.Ref(r=7, w=asked.id)


def test_the_waive_command_keeps_a_reason_with_equals_signs() -> None:
    parsed = parse({"text": "waive health for=2d fix x=1 soon", "user_id": "U", "channel_id": "C"})
    check_options(parsed)
    assert parsed.words == ["health", "fix", "x=1", "soon"] and parsed.options == {"for": "2d"}


def test_many_long_waivers_stay_within_slack_limits_and_say_how_many_more() -> None:
    long = "why " * 200
    results = {f"m{i}": LatestResult(f"m{i}", ItemStatus.FAIL, "x" * 900, T0) for i in range(13)}
    many = tuple(waiver(id=10 + i, item_id=f"m{i}", reason=long) for i in range(13))
    base = facts(*many)
    view = view_of(APP, Facts(base.release, (), (), results, {}, waivers=many, now=T0))
    blocks = card(view)
    check_message(card_text(view), blocks)  # 50 blocks, 3,000 a section, ~12,000 in all
    assert "…and 7 more (see Checklist)" in json.dumps(blocks, ensure_ascii=False)
    assert "(13 waived)" in json.dumps(blocks)


def test_once_deployed_what_was_waived_at_the_deploy_still_counts() -> None:
    """A waiver expiring (or recorded as expired) after the deploy changes no record."""
    at_deploy = T0 + DAY
    shipped = Release(
        7,
        "LUMINES 1.0.0",
        "C1",
        ReleaseState.DEPLOYED,
        "UREL",
        T0,
        ref="abc",
        deployed_at=at_deploy,
    )
    recorded = waiver(WaiverState.EXPIRED, ended_at=T0 + 2 * DAY)
    later = T0 + 5 * DAY
    for given in (waiver(), recorded):
        base = facts(given, now=later)
        view = view_of(
            APP, Facts(shipped, (), (), base.results, base.ticks, waivers=(given,), now=later)
        )
        item = next(v for v in view.readiness.items if v.item.id == "health")
        assert item.waived and view.readiness.blocking_pass
        assert not [r for r in view.authorization.reasons if r.kind == "waiver_ended"]
    # Withdrawn before the deploy: it did not count when it shipped.
    gone = waiver(WaiverState.WITHDRAWN, ended_at=T0 + timedelta(hours=1), ended_by="UCTO")
    base = facts(gone, now=later)
    view = view_of(
        APP, Facts(shipped, (), (), base.results, base.ticks, waivers=(gone,), now=later)
    )
    assert not view.readiness.blocking_pass


def test_a_waived_item_that_passes_again_stales_nobody_and_can_still_be_withdrawn() -> None:
    """The fix landed while the waiver lasts: it counts for nothing, so no signature, given
    before or after it, is stale over it; the card still offers its grantor Withdraw."""
    before = signed_by(1, "eng", "UENG")
    after = signed_by(2, "cto", "UCTO")
    base = facts(waiver(), signed=(before, after))
    passing = {"health": LatestResult("health", ItemStatus.PASS, "ok", T0)}
    view = view_of(APP, Facts(base.release, base.signatures, (), passing, base.ticks,
                              waivers=base.waivers, now=T0))  # fmt: skip
    assert view.stale == () and view.readiness.blocking_pass
    blocks = card(view)
    shown = json.dumps(blocks)
    assert "not counted: it passes again" in shown and message_problems(blocks) == []
    (withdraw,) = [b["accessory"] for b in blocks if "accessory" in b]
    assert withdraw["action_id"] == ids.WAIVER_WITHDRAW


@pytest.mark.parametrize(
    ("raw", "said"),
    [
        ("9999999999d", "as a duration"),  # overflows a timedelta
        ("500ms", "at least a second"),  # stored in seconds: it would be 0
        ("31d", "at most 30d"),
    ],
)
def test_a_duration_that_cant_be_used_is_said_on_its_field(raw: str, said: str) -> None:
    with pytest.raises(BadDuration, match=said):
        parse_for(raw, APP)


def test_a_pending_item_is_not_waived_only_a_failing_one() -> None:
    view = view_of(APP, facts())
    pending = next(v for v in view.readiness.items if v.item.id == "m0")
    assert pending.status is ItemStatus.PASS  # ticked in these facts
    unticked = facts()
    ticks = {k: t for k, t in unticked.ticks.items() if k != "m0"}
    view = view_of(APP, Facts(unticked.release, (), (), unticked.results, ticks, now=T0))
    with pytest.raises(InvalidState, match="not ticked yet: a waiver is for an item that fails"):
        check_can_request(APP, view, "m0", frozenset({"eng"}), DAY, "x")


def test_the_reason_after_for_is_kept_word_for_word() -> None:
    parsed = parse(
        {
            "text": "waive health_db for=2d DB down, see product=billing and for=ever",
            "user_id": "U",
            "channel_id": "C",
        }
    )
    check_options(parsed)
    assert parsed.options == {"for": "2d"}
    assert " ".join(parsed.words[1:]) == "DB down, see product=billing and for=ever"


def test_an_unanswered_request_says_why_it_can_no_longer_be_answered() -> None:
    asked = waiver(WaiverState.REQUESTED)
    notice = request_notice(APP, 7, asked)
    for state, why in (
        (ReleaseState.OPEN, None),
        (ReleaseState.SUSPENDED, None),
        (ReleaseState.DEPLOYED, "the release was deployed"),
        (ReleaseState.DONE, "the release was deployed"),
        (ReleaseState.CANCELLED, "the release was cancelled"),
    ):
        assert WaiverRequestNow(notice, asked, state).unanswerable == why, state
    granted = waiver(WaiverState.GRANTED)
    assert WaiverRequestNow(notice, granted, ReleaseState.DEPLOYED).unanswerable is None
