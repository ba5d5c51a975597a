"""Post-deploy rules and messages: the phases' timeline, slots, digests, and their blocks."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from bot.domain.checklist import Item, Phase
from bot.domain.model import ItemStatus
from bot.domain.monitoring import (
    Breach,
    Observation,
    current,
    digest,
    digests_due,
    due_slot,
    is_late,
    timeline,
)
from bot.domain.notices import AlertLine, BreachAlert, Digest, decode
from bot.fake_slack.blockkit import message_problems
from bot.slack.blocks.monitoring import digest_blocks
from bot.slack.blocks.notices import render
from bot.slack.ids import ALERT_ACK, ALERT_ROLLBACK, Ref
from checks import default_registry

T0 = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)
PHASES = [
    Phase(
        id="hour",
        title="Immediate (First Hour)",
        duration=timedelta(hours=1),
        every=timedelta(minutes=10),
    ),
    Phase(
        id="day",
        title="Extended (First 24 Hours)",
        duration=timedelta(hours=24),
        every=timedelta(hours=1),
    ),
]
REGISTRY = default_registry()
ERRORS = Item(
    id="errors",
    title="Error rate < 0.1%",
    check=REGISTRY.parse(
        {"type": "prometheus", "url": "http://p", "query": "q", "op": "<", "threshold": 0.001}
    ),
)
P95 = Item(
    id="p95",
    title="p95",
    check=REGISTRY.parse({"type": "latency", "url": "http://t", "p95_ms": 500}),
)
FEEDBACK = Item(id="feedback", title="User feedback positive", blocking=False)


def at(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


def test_phases_follow_each_other_and_slots_coalesce() -> None:
    hour, day = timeline(PHASES, T0)
    assert (hour.start, hour.end, day.start, day.end) == (T0, at(60), at(60), at(60 + 24 * 60))
    assert current([hour, day], at(59)) is hour and current([hour, day], at(60)) is day
    assert current([hour, day], at(60 + 24 * 60)) is None
    assert [due_slot(hour, at(m)) for m in (0, 9.9, 10, 35, 59)] == [0, 0, 1, 3, 5]


def test_digests_fall_due_at_each_phase_end_once_and_late_after_the_grace() -> None:
    windows = timeline(PHASES, T0)
    assert digests_due(windows, set(), at(59)) == []
    assert [w.phase.id for w in digests_due(windows, set(), at(60))] == ["hour"]
    assert digests_due(windows, {"digest:hour"}, at(61)) == []
    assert [w.phase.id for w in digests_due(windows, set(), at(3000))] == ["hour", "day"]
    grace = timedelta(minutes=15)
    assert not is_late(windows[0], at(75), grace) and is_late(windows[0], at(76), grace)


def test_a_digest_counts_runs_keeps_the_worst_value_and_the_breaches_of_its_phase() -> None:
    hour, day = timeline(PHASES, T0)
    seen = [
        Observation("errors", ItemStatus.PASS, "ok", {"worst": 0.0002}, at(0)),
        Observation("errors", ItemStatus.FAIL, "too high", {"worst": 0.004}, at(10)),
        Observation("errors", ItemStatus.PASS, "ok", {"worst": 0.0001}, at(20)),
        Observation("p95", ItemStatus.PASS, "ok", {"p95_ms": 212.4}, at(0)),
        Observation("p95", ItemStatus.PASS, "ok", {"p95_ms": 380.0}, at(10)),
        Observation("errors", ItemStatus.FAIL, "next phase", {"worst": 9}, at(70)),
    ]
    breaches = [
        Breach("errors", at(10), "too high", at(20), acknowledged_by="UOPS"),
        Breach("errors", at(70), "next phase"),
    ]
    found = digest(hour, [ERRORS, P95, FEEDBACK], seen, breaches, day.phase)
    errors, p95, feedback = found.items
    assert (errors.runs, errors.passed, errors.worst) == (3, 2, "highest 0.004")
    assert (p95.runs, p95.passed, p95.worst) == (2, 2, "worst p95 380 ms")
    assert (feedback.runs, feedback.worst) == (0, None)
    assert [b.opened_at for b in found.breaches] == [at(10)]
    assert not found.healthy and found.next_phase is day.phase


def breach(*lines: AlertLine, **answers: object) -> BreachAlert:
    return BreachAlert(
        7, 42, "LUMINES 1.0.0", "Immediate (First Hour)", ("UOPS", "UCTO"), lines, **answers
    )  # type: ignore[arg-type]


DB_DOWN = AlertLine("Database healthy", "GET /api/health/db answered 503", at(2))
ERRORS_HIGH = AlertLine("Error rate < 0.1%", "0.4% (limit < 0.1%)", at(3))


def test_one_alert_per_breach_lists_its_items_and_loses_the_buttons_answered() -> None:
    text, blocks = render(breach(DB_DOWN))
    assert text == (
        ":rotating_light: <@UOPS> <@UCTO> *Database healthy* is failing on *LUMINES 1.0.0* "
        "during the Immediate (First Hour) phase: GET /api/health/db answered 503"
    )
    assert message_problems(blocks) == []
    buttons = blocks[-1]["elements"]
    assert [b["action_id"] for b in buttons] == [ALERT_ACK, ALERT_ROLLBACK]
    assert {Ref.decode(b["value"]) for b in buttons} == {Ref(r=7, m=42)}
    assert "does not run anything" in buttons[1]["confirm"]["text"]["text"]

    two, blocks = render(breach(DB_DOWN, ERRORS_HIGH))
    assert "*2 post-deploy items* are failing" in two  # one message, mentioning once
    listed = str(blocks[1])
    assert "*Database healthy*: GET /api/health/db answered 503" in listed
    assert "*Error rate &lt; 0.1%*: 0.4% (limit &lt; 0.1%)" in listed

    acked = render(breach(DB_DOWN, ERRORS_HIGH, acknowledged_by="UOPS", acknowledged_at=at(4)))[1]
    assert "Acknowledged by <@UOPS>" in str(acked)
    assert [b["action_id"] for b in acked[-1]["elements"]] == [ALERT_ROLLBACK]
    decided = render(breach(DB_DOWN, rolled_back_by="UCTO", rolled_back_at=at(5)))[1]
    assert "Roll back decided by <@UCTO>" in str(decided)
    assert all(b["type"] != "actions" for b in decided)

    recovered = replace(DB_DOWN, recovered_at=at(9))
    over, blocks = render(
        breach(recovered, replace(ERRORS_HIGH, recovered_at=at(8)), closed_at=at(9))
    )
    assert over.startswith(":white_check_mark: Every post-deploy item of *LUMINES 1.0.0* passes")
    assert "<@UOPS>" not in over  # nobody called again
    assert ":white_check_mark: *Database healthy*: recovered" in str(blocks)
    assert all(b["type"] != "actions" for b in blocks)
    assert message_problems(blocks) == []

    data = {
        "release": 7,
        "name": "LUMINES <1.0.0>",
        "phase": "hour",
        "title": "Immediate (First Hour)",
        "start": T0.isoformat(),
        "end": at(60).isoformat(),
        "late": True,
        "next": None,
        "items": [
            {
                "id": f"i{n}",
                "title": f"Item {n}",
                "manual": n == 0,
                "runs": 6,
                "passed": n % 7,
                "worst": "highest 0.004",
                "last_status": "fail",
                "last_reason": "x" * 400,
            }
            for n in range(40)
        ],
        "breaches": [
            {
                "item": "Item 3",
                "opened_at": at(10).isoformat(),
                "recovered_at": None,
                "reason": "down",
                "acknowledged_by": "UOPS",
                "rolled_back_by": "UCTO",
            }
        ],
    }
    notice = decode("digest", data)  # as queued (and as an older version queued it)
    assert isinstance(notice, Digest)
    blocks = digest_blocks(notice)
    assert message_problems(blocks) == []
    assert blocks[0]["text"]["text"] == "Immediate (First Hour) digest (late)"
    text = str(blocks)
    assert "LUMINES &lt;1.0.0&gt;" in text and "*still failing*" in text
    assert "roll back decided by <@UCTO>" in text and "monitoring complete" in text
    assert render(notice)[1] == blocks and decode(None, None) is None
