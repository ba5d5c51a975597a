"""The sign-off rules, each with its refusals."""

from __future__ import annotations

import textwrap
from datetime import UTC, datetime

import pytest

from bot.config import parse_app_config
from bot.domain.checklist import AppConfig
from bot.domain.errors import InvalidInput, InvalidState, NotAuthorized, NotFound
from bot.domain.freezes import ChangeFreeze
from bot.domain.model import (
    ItemStatus,
    LatestResult,
    Rejection,
    Release,
    ReleaseState,
    Signature,
    Tick,
)
from bot.domain.readiness import assess
from bot.domain.reasons import Staleness
from bot.domain.signoff import (
    authorize,
    check_can_cancel,
    check_can_reject,
    check_can_sign,
    check_can_tick,
    check_can_withdraw,
    check_can_withdraw_rejection,
    check_text,
    derive_state,
    split_stale,
    staleness,
)
from checks import default_registry

T0 = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)

CONFIG = """
product: P
roles:
  eng: {title: Engineering Lead, members: [UENG, UENG2], attestations: [Reviewed]}
  ops: {title: DevOps Lead, members: [UOPS, UOPS2], min_signers: 2}
  cto: {title: CTO, members: [UCTO, UCTO2], final: true}
sections:
  - id: infra
    title: Infrastructure
    items:
      - {id: health, title: Health, check: {type: http, url: "http://x/h"}}
      - {id: cluster, title: Cluster, owner: ops, weight: 3}
      - {id: docs, title: Docs, blocking: false}
"""


@pytest.fixture
def app() -> AppConfig:
    return parse_app_config(textwrap.dedent(CONFIG), {}, default_registry())


def said(why: Staleness | None) -> str | None:
    return None if why is None else str(why.phrase())


def release(state: ReleaseState = ReleaseState.OPEN, creator: str = "UCREATOR") -> Release:
    return Release(1, "LUMINES 1.0.0", "C1", state, creator, T0)


def sig(role: str, user: str, n: int = 1) -> Signature:
    return Signature(n, role, user, T0)


def result(item: str, status: ItemStatus) -> LatestResult:
    return LatestResult(item, status, "r", T0)


ALL_PASS = {"health": result("health", ItemStatus.PASS)}
TICKED = {"cluster": Tick("cluster", "UOPS", T0)}
OTHERS_SIGNED = [sig("eng", "UENG"), sig("ops", "UOPS", 2), sig("ops", "UOPS2", 3)]


def test_readiness_percent_is_weighted_and_rounded_down(app: AppConfig) -> None:
    assert assess(app, {}, {}).percent == 0
    assert assess(app, ALL_PASS, {}).percent == 20  # 1 of 5
    assert assess(app, ALL_PASS, TICKED).percent == 80  # 4 of 5
    failing = {"health": result("health", ItemStatus.FAIL)}
    readiness = assess(app, failing, TICKED)
    assert readiness.percent == 60
    assert [v.item.id for v in readiness.blocking_not_passing] == ["health"]
    assert assess(app, ALL_PASS, TICKED).blocking_pass  # docs is non-blocking


def test_member_may_sign_an_open_slot(app: AppConfig) -> None:
    check_can_sign(app, release(), "eng", "UENG", frozenset({"eng"}), [], assess(app, {}, {}))


def test_non_member_is_refused(app: AppConfig) -> None:
    with pytest.raises(NotAuthorized, match="not an approver for Engineering Lead"):
        check_can_sign(app, release(), "eng", "UX", frozenset(), [], assess(app, {}, {}))


def test_unknown_role(app: AppConfig) -> None:
    with pytest.raises(NotFound):
        check_can_sign(app, release(), "cfo", "UX", frozenset(), [], assess(app, {}, {}))


def test_one_person_one_role(app: AppConfig) -> None:
    with pytest.raises(NotAuthorized, match="one person holds one role"):
        check_can_sign(
            app,
            release(),
            "ops",
            "UENG",
            frozenset({"eng", "ops"}),
            [sig("eng", "UENG")],
            assess(app, {}, {}),
        )
    with pytest.raises(InvalidState, match="already signed as Engineering Lead"):
        check_can_sign(
            app,
            release(),
            "eng",
            "UENG",
            frozenset({"eng"}),
            [sig("eng", "UENG")],
            assess(app, {}, {}),
        )


def test_taken_slot_is_refused_but_min_signers_leaves_room(app: AppConfig) -> None:
    with pytest.raises(InvalidState, match="already signed"):
        check_can_sign(
            app,
            release(),
            "eng",
            "UENG2",
            frozenset({"eng"}),
            [sig("eng", "UENG")],
            assess(app, {}, {}),
        )
    check_can_sign(
        app,
        release(),
        "ops",
        "UOPS2",
        frozenset({"ops"}),
        [sig("ops", "UOPS")],
        assess(app, {}, {}),
    )


def test_final_role_signs_last(app: AppConfig) -> None:
    readiness = assess(app, ALL_PASS, TICKED)
    with pytest.raises(InvalidState, match="waiting for Engineering Lead, DevOps Lead"):
        check_can_sign(app, release(), "cto", "UCTO", frozenset({"cto"}), [], readiness)
    with pytest.raises(InvalidState, match="waiting for DevOps Lead"):
        check_can_sign(
            app,
            release(),
            "cto",
            "UCTO",
            frozenset({"cto"}),
            [sig("eng", "UENG"), sig("ops", "UOPS", 2)],
            readiness,
        )
    check_can_sign(app, release(), "cto", "UCTO", frozenset({"cto"}), OTHERS_SIGNED, readiness)


def test_final_role_needs_every_blocking_item_passing(app: AppConfig) -> None:
    failing = assess(app, {"health": result("health", ItemStatus.ERROR)}, TICKED)
    with pytest.raises(InvalidState, match=r"1 blocking item.*Health"):
        check_can_sign(app, release(), "cto", "UCTO", frozenset({"cto"}), OTHERS_SIGNED, failing)


def test_creator_cannot_give_final_approval(app: AppConfig) -> None:
    with pytest.raises(NotAuthorized, match=r"You opened LUMINES 1\.0\.0"):
        check_can_sign(
            app,
            release(creator="UCTO"),
            "cto",
            "UCTO",
            frozenset({"cto"}),
            OTHERS_SIGNED,
            assess(app, ALL_PASS, TICKED),
        )


@pytest.mark.parametrize(
    "state",
    [ReleaseState.BLOCKED, ReleaseState.APPROVED, ReleaseState.CANCELLED, ReleaseState.DEPLOYED],
)
def test_signing_needs_an_open_release(app: AppConfig, state: ReleaseState) -> None:
    with pytest.raises(InvalidState, match="can't sign"):
        check_can_sign(
            app, release(state), "eng", "UENG", frozenset({"eng"}), [], assess(app, {}, {})
        )


def test_withdraw_own_signature_until_approved(app: AppConfig) -> None:
    mine = sig("eng", "UENG")
    assert check_can_withdraw(release(), "UENG", [mine]) == mine
    with pytest.raises(NotFound):
        check_can_withdraw(release(), "UOPS", [mine])
    with pytest.raises(InvalidState, match="already approved"):
        check_can_withdraw(release(ReleaseState.APPROVED), "UENG", [mine])


def test_reject_and_withdraw_rejection(app: AppConfig) -> None:
    assert check_can_reject(app, release(), "UENG", frozenset({"eng"}), [], " no ") == "no"
    with pytest.raises(NotAuthorized, match="Only approvers"):
        check_can_reject(app, release(), "UX", frozenset(), [], "no")
    with pytest.raises(InvalidInput, match="give a reason"):
        check_can_reject(app, release(), "UENG", frozenset({"eng"}), [], "  ")
    with pytest.raises(InvalidInput, match="too long"):
        check_can_reject(app, release(), "UENG", frozenset({"eng"}), [], "x" * 501)
    mine = Rejection(1, "UENG", "no", T0)
    with pytest.raises(InvalidState, match="already rejected"):
        check_can_reject(app, release(), "UENG", frozenset({"eng"}), [mine], "again")
    assert check_can_withdraw_rejection(release(ReleaseState.BLOCKED), "UENG", [mine]) == mine
    with pytest.raises(NotFound):
        check_can_withdraw_rejection(release(ReleaseState.BLOCKED), "UOPS", [mine])


def test_tick_rules(app: AppConfig) -> None:
    items = {i.id: i for i in app.items}
    check_can_tick(app, release(), items["cluster"], frozenset({"ops"}))
    with pytest.raises(NotAuthorized, match="Only DevOps Lead"):
        check_can_tick(app, release(), items["cluster"], frozenset({"eng"}))
    check_can_tick(app, release(), items["docs"], frozenset({"eng"}))  # no owner: any approver
    with pytest.raises(NotAuthorized, match="Only approvers"):
        check_can_tick(app, release(), items["docs"], frozenset())
    with pytest.raises(InvalidState, match="checked automatically"):
        check_can_tick(app, release(), items["health"], frozenset({"ops"}))


def test_cancel_rules(app: AppConfig) -> None:
    check_can_cancel(app, release(), "UCREATOR", frozenset())
    check_can_cancel(app, release(), "UCTO", frozenset({"cto"}))
    with pytest.raises(NotAuthorized):
        check_can_cancel(app, release(), "UENG", frozenset({"eng"}))
    with pytest.raises(InvalidState):
        check_can_cancel(app, release(ReleaseState.CANCELLED), "UCREATOR", frozenset())


def test_state_follows_the_facts(app: AppConfig) -> None:
    ok, bad = assess(app, ALL_PASS, TICKED), assess(app, {}, TICKED)
    final = [*OTHERS_SIGNED, sig("cto", "UCTO", 9)]
    rejected = [Rejection(1, "UENG", "no", T0)]
    assert derive_state(app, ReleaseState.OPEN, OTHERS_SIGNED, [], ok) is ReleaseState.OPEN
    assert derive_state(app, ReleaseState.OPEN, final, [], ok) is ReleaseState.APPROVED
    assert derive_state(app, ReleaseState.APPROVED, final, [], bad) is ReleaseState.SUSPENDED
    assert derive_state(app, ReleaseState.SUSPENDED, final, [], ok) is ReleaseState.APPROVED
    assert derive_state(app, ReleaseState.OPEN, [], rejected, ok) is ReleaseState.BLOCKED
    assert derive_state(app, ReleaseState.CANCELLED, final, [], ok) is ReleaseState.CANCELLED


def test_authorization_lists_what_is_missing(app: AppConfig) -> None:
    auth = authorize(app, release(), OTHERS_SIGNED[:1], [], assess(app, {}, {}))
    assert not auth.approved
    said = [str(r.phrase()) for r in auth.reasons]
    assert "waiting for DevOps Lead" in said
    assert any("blocking item(s) not passing: Health, Cluster" in r for r in said)  # titles
    assert "no final approval by CTO" in said
    assert [r.kind for r in auth.reasons] == ["waiting_for", "blocking_items", "no_final_approval"]
    final = [*OTHERS_SIGNED, sig("cto", "UCTO", 9)]
    done = authorize(app, release(ReleaseState.APPROVED), final, [], assess(app, ALL_PASS, TICKED))
    assert done.approved and not done.reasons
    assert all(c.met for c in done.conditions)


def test_a_change_freeze_holds_an_approved_release_but_not_a_deployed_one(app: AppConfig) -> None:
    final = [*OTHERS_SIGNED, sig("cto", "UCTO", 9)]
    ready = assess(app, ALL_PASS, TICKED)
    hold = ChangeFreeze("weekend", "Weekend", datetime(2026, 12, 7, 8, 0, tzinfo=UTC))
    held = authorize(app, release(ReleaseState.APPROVED), final, [], ready, frozen=[hold])
    assert not held.approved and held.reasons == (hold,)
    assert all(c.met for c in held.conditions)  # approval itself is complete
    shipped = authorize(app, release(ReleaseState.DEPLOYED), final, [], ready, frozen=[hold])
    assert shipped.approved and not shipped.reasons


def test_a_signature_goes_stale_when_the_ref_or_the_checklist_changes(app: AppConfig) -> None:
    signed_on = {"ref": "abc", "config_version": app.version}
    fresh = Signature(1, "eng", "UENG", T0, evidence=signed_on)
    on_abc = Release(1, "R", "C1", ReleaseState.APPROVED, "UREL", T0, ref="abc")
    on_def = Release(1, "R", "C1", ReleaseState.APPROVED, "UREL", T0, ref="def")
    assert staleness(app, on_abc, fresh) is None
    moved = staleness(app, on_def, fresh)
    assert moved == Staleness("ref", "abc", "def")
    assert moved is not None and str(moved.phrase()) == "the ref changed from abc to def"
    older = Signature(2, "cto", "UCTO", T0, evidence={**signed_on, "config_version": "0ld"})
    assert said(staleness(app, on_abc, older)) == "the checklist changed since it was given"
    kept, stale = split_stale(app, on_abc, [fresh, older])
    assert kept == [fresh] and [s.signature for s in stale] == [older]


def test_a_deployed_release_keeps_its_signatures_whatever_changes_later(app: AppConfig) -> None:
    older = Signature(1, "cto", "UCTO", T0, evidence={"ref": "abc", "config_version": "0ld"})
    retired = Signature(2, "qa_lead", "UQA", T0, evidence={"ref": "def"})
    for state in (ReleaseState.DEPLOYED, ReleaseState.MONITORING, ReleaseState.DONE):
        deployed = Release(1, "R", "C1", state, "UREL", T0, ref="def")
        kept, stale = split_stale(app, deployed, [older, retired])
        assert kept == [older]  # a changed checklist and ref don't matter any more
        assert [(s.signature, said(s.staleness)) for s in stale] == [
            (retired, "its role is no longer in the checklist")  # still on record
        ]


def test_stale_on_chooses_what_a_role_signs_on(app: AppConfig) -> None:
    app.roles["eng"].stale_on = ["config"]
    app.roles["cto"].stale_on = []
    on_def = Release(1, "R", "C1", ReleaseState.APPROVED, "UREL", T0, ref="def")
    eng = Signature(1, "eng", "UENG", T0, evidence={"ref": "abc", "config_version": app.version})
    cto = Signature(2, "cto", "UCTO", T0, evidence={"ref": "abc", "config_version": "0ld"})
    assert staleness(app, on_def, eng) is None  # a new ref doesn't matter to this role
    assert staleness(app, on_def, cto) is None  # nothing does
    eng_old = Signature(3, "eng", "UENG", T0, evidence={"ref": "abc", "config_version": "0ld"})
    assert said(staleness(app, on_def, eng_old)) == "the checklist changed since it was given"


def test_what_people_write_loses_controls_and_bidirectional_overrides() -> None:
    """U+202E and the isolates would reorder what others read ("gnissap" as "passing")."""
    written = "tests \u202egnissap\u202c ok\u2066x\u2069\x07"
    assert check_text(written, "comment", 100) == "tests gnissap okx"


def test_a_ref_set_after_signing_is_said_as_such() -> None:
    assert said(Staleness("ref", None, "def456")) == "the ref was set to def456 after it was given"
    assert said(Staleness("ref", "abc", "def")) == "the ref changed from abc to def"
