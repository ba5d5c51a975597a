"""The Home tab: whose sign-off each open release waits for, and its Block Kit."""

from __future__ import annotations

import json
import textwrap
from datetime import UTC, datetime

from bot.config import parse_app_config
from bot.domain.checklist import AppConfig
from bot.domain.model import ItemStatus, LatestResult, Release, ReleaseState, Signature
from bot.domain.view import ReleaseView, build_view
from bot.fake_slack.blockkit import view_problems
from bot.services.home import Home, signoffs_for
from bot.slack import ids
from bot.slack.blocks.home import MAX_WAITING, home_view
from checks import default_registry

T0 = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)
APP: AppConfig = parse_app_config(
    textwrap.dedent("""
    product: LUMINES/WIS2L
    roles:
      eng: {title: Engineering Lead, members: [UENG, UBOTH], attestations: [Reviewed]}
      sec: {title: Security Lead, members: [USEC, UBOTH], attestations: [Reviewed]}
      cto: {title: CTO/Engineering Manager, members: [UCTO, UREL], final: true}
    sections:
      - id: infra
        title: Infrastructure Readiness
        items:
          - {id: health, title: Health, check: {type: http, url: "http://x/h"}}
    """),
    {},
    default_registry(),
)
EVERYONE = ("UENG", "USEC", "UBOTH", "UCTO", "UREL", "UNOBODY")


def held(user: str) -> frozenset[str]:
    return frozenset(r for r, role in APP.roles.items() if user in role.members)


def signed(n: int, role: str, user: str) -> Signature:
    return Signature(n, role, user, T0, evidence={"ref": "abc", "config_version": APP.version})


def view(
    signatures: list[Signature],
    state: ReleaseState = ReleaseState.OPEN,
    health: ItemStatus = ItemStatus.PASS,
    release_id: int = 7,
    name: str = "LUMINES 1.0.0",
) -> ReleaseView:
    release = Release(release_id, name, "CREL", state, "UREL", T0, ref="abc")
    results = {"health": LatestResult("health", health, "GET /h answered 200", T0)}
    return build_view(APP, release, signatures, [], results, {}, None)


def waiting(views: list[ReleaseView], user: str) -> list[str]:
    return [s.role_id for s in signoffs_for(APP, views, user, held(user)) if s.later is None]


def later(views: list[ReleaseView], user: str) -> dict[str, str]:
    return {
        s.role_id: s.later or ""
        for s in signoffs_for(APP, views, user, held(user))
        if s.later is not None
    }


def test_a_new_release_waits_for_the_first_roles_and_the_final_comes_later() -> None:
    fresh = [view([])]
    assert {u: waiting(fresh, u) for u in EVERYONE} == {
        "UENG": ["eng"],
        "USEC": ["sec"],
        "UBOTH": ["eng", "sec"],  # either, until one is signed
        "UCTO": [],
        "UREL": [],  # opened it: never its final approval
        "UNOBODY": [],
    }
    assert later(fresh, "UCTO") == {
        "cto": "The final approval comes last: still waiting for Engineering Lead, Security Lead."
    }
    assert later(fresh, "UREL") == {}


def test_one_person_one_role_and_the_final_once_the_others_signed() -> None:
    half = [view([signed(1, "eng", "UBOTH")])]
    assert waiting(half, "UBOTH") == [] and later(half, "UBOTH") == {}
    assert waiting(half, "UENG") == []  # the role is complete
    assert waiting(half, "USEC") == ["sec"]
    others = [signed(1, "eng", "UENG"), signed(2, "sec", "USEC")]
    assert waiting([view(others)], "UCTO") == ["cto"]
    failing = [view(others, health=ItemStatus.FAIL)]
    assert waiting(failing, "UCTO") == []
    assert later(failing, "UCTO") == {"cto": "1 blocking item(s) are not passing: Health."}


def test_only_open_releases_wait() -> None:
    for state in (ReleaseState.BLOCKED, ReleaseState.APPROVED, ReleaseState.CANCELLED):
        assert signoffs_for(APP, [view([], state=state)], "UENG", held("UENG")) == []


def home(views: list[ReleaseView], user: str, note: str | None = None) -> Home:
    found = signoffs_for(APP, views, user, held(user))
    return Home(
        user=user,
        waiting=tuple(s for s in found if s.later is None),
        later=tuple(s for s in found if s.later is not None),
        releases=tuple(views),
        at=T0,
        note=note,
    )


def buttons(published: dict[str, object]) -> list[dict[str, str]]:
    blocks = published["blocks"]
    assert isinstance(blocks, list)
    return [b["accessory"] for b in blocks if "accessory" in b]


def test_the_home_tab_offers_each_waiting_sign_off_and_lists_open_releases() -> None:
    views = [
        view([], name="LUMINES <2.0>", release_id=8),
        view([signed(1, "eng", "UENG")], state=ReleaseState.BLOCKED),
    ]
    published = home_view(home(views, "USEC"))
    assert published["type"] == "home"
    assert view_problems(published) == []
    (sign,) = buttons(published)
    assert sign["action_id"] == "sign:sec" and ids.SIGN.match(sign["action_id"])
    assert ids.Ref.decode(sign["value"]) == ids.Ref(r=8, role="sec")
    text = json.dumps(published)
    assert "LUMINES &lt;2.0&gt;" in text and "<2.0>" not in text
    assert "needs your sign-off as *Security Lead*" in text
    assert "*Open releases*" in text and "LUMINES 1.0.0" in text and ":no_entry: Blocked" in text
    assert "1/3 roles signed" in text and "<#CREL>" in text


def test_nothing_waiting_and_what_comes_later() -> None:
    published = home_view(home([view([])], "UCTO", note="Slack didn't say <who>."))
    assert view_problems(published) == []
    assert buttons(published) == []
    text = json.dumps(published)
    assert "Nothing is waiting for your sign-off" in text
    assert "*Yours to sign later*" in text and "The final approval comes last" in text
    assert "didn't say &lt;who&gt;." in text
    empty = json.dumps(home_view(home([], "UNOBODY")))
    assert "No release is open" in empty


def test_many_releases_stay_within_slacks_limits() -> None:
    views = [view([], release_id=i, name=f"LUMINES 1.{i}.0 " + "x" * 60) for i in range(50)]
    published = home_view(home(views, "UBOTH"))
    assert view_problems(published) == []
    assert len(buttons(published)) == MAX_WAITING
    assert "and 80 more" in json.dumps(published)
