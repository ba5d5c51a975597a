"""The sign-off document as JSON: the same record as the Markdown, for machines (pure)."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from enum import Enum
from typing import Any

from bot.domain.document import DigestRecord, SignoffDocument
from bot.domain.model import Signature
from bot.domain.readiness import ItemView
from bot.domain.reasons import Reason
from bot.domain.view import ReleaseView
from bot.domain.waivers import Waiver, WaiverState
from checks.durations import format_duration

FORMAT = "readiness.signoff/1"

Shown = Callable[[str | None], Any]  # how a person is shown: a user id, or id and name


def _user_id(user: str | None) -> str | None:
    return user


def iso(at: datetime | None) -> str | None:
    return at.astimezone(UTC).isoformat() if at else None


def plain_json(value: Any) -> Any:
    if isinstance(value, datetime):
        return iso(value)
    if isinstance(value, Enum):  # a StrEnum too: its value, not its repr
        return value.value
    if isinstance(value, dict):
        return {k: plain_json(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [plain_json(v) for v in value]
    return value


def reason_detail(reason: Reason) -> dict[str, Any]:
    """A reason as a JSON object: its kind, then what it involves (roles, items with their
    ids and titles, people by user id, times in ISO 8601), and its words."""
    return {
        "kind": reason.kind,
        **plain_json(dataclasses.asdict(reason)),
        "text": str(reason.phrase()),
    }


def reasons_json(view: ReleaseView) -> dict[str, Any]:
    """`reasons` (plain sentences, as ever) and `reasons_detail` (the structured form)."""
    reasons = view.authorization.reasons
    return {
        "reasons": [str(r.phrase()) for r in reasons],
        "reasons_detail": [reason_detail(r) for r in reasons],
    }


def item_status(view: ItemView) -> str:
    """What an item shows: `waived` while a waiver counts it (never `pass`), else its latest
    result's status."""
    return "waived" if view.waived else view.status.value


def waiver_state(view: ReleaseView, waiver: Waiver) -> WaiverState:
    """How the waiver stands as of the view: a granted one past its expiry, or granted on a
    ref the release has left, has ended, though that may not be recorded yet."""
    return waiver.ending(view.facts.now if view.facts else None, view.release.ref) or waiver.state


def waiver_ended_at(view: ReleaseView, waiver: Waiver) -> datetime | None:
    """When it ended (an expiry not yet recorded: its expiry), or None while it has not."""
    if waiver.ended_at is not None:
        return waiver.ended_at
    return waiver.expires_at if waiver_state(view, waiver) is WaiverState.EXPIRED else None


def waiver_record(view: ReleaseView, waiver: Waiver, person: Shown = _user_id) -> dict[str, Any]:
    """A waiver as a JSON object, whatever its state (PERSON: how a person is shown)."""
    return {
        "id": waiver.id,
        "item": waiver.item_id,
        "item_title": waiver.item_title,
        "state": waiver_state(view, waiver).value,
        "requested_by": person(waiver.requested_by),
        "requested_at": iso(waiver.requested_at),
        "reason": waiver.reason,
        "duration": format_duration(waiver.duration),
        "decided_by": person(waiver.decided_by),
        "decided_at": iso(waiver.decided_at),
        "denial": waiver.denial,
        "expires_at": iso(waiver.expires_at),
        "ended_at": iso(waiver_ended_at(view, waiver)),
        "ended_by": person(waiver.ended_by),
    }


def item_waiver(waiver: Waiver | None, person: Shown = _user_id) -> dict[str, Any] | None:
    """The waiver that counts an item as passing (None: no waiver in force)."""
    if waiver is None:
        return None
    return {
        "id": waiver.id,
        "requested_by": person(waiver.requested_by),
        "granted_by": person(waiver.decided_by),
        "reason": waiver.reason,
        "until": iso(waiver.expires_at),
        "granted_at": iso(waiver.decided_at),
    }


def _person(user: str | None, names: Mapping[str, str]) -> dict[str, Any] | None:
    return {"user": user, "name": names.get(user)} if user else None


def _signature_json(signature: Signature, names: Mapping[str, str]) -> dict[str, Any]:
    return {
        "id": signature.id,
        "role": signature.role_id,
        **(_person(signature.user_id, names) or {}),
        "signed_at": iso(signature.signed_at),
        "attestations": list(signature.attestations),
        "comment": signature.comment,
        "evidence": signature.evidence,
    }


def render_json(doc: SignoffDocument) -> dict[str, Any]:
    view, release, names = doc.view, doc.view.release, doc.names
    auth, readiness = view.authorization, view.readiness
    windows = {w.phase.id: w for w in doc.windows}

    def shown(user: str | None) -> dict[str, Any] | None:
        return _person(user, names)

    return {
        "format": FORMAT,
        "generated_at": iso(doc.generated_at),
        "product": view.product,
        "product_id": release.product,
        "checklist_version": doc.checklist_version,
        "release": {
            "id": release.id,
            "name": release.name,
            "ref": release.ref,
            "state": release.state.value,
            "channel": release.channel,
            "created_by": _person(release.created_by, names),
            "created_at": iso(release.created_at),
        },
        "readiness": {
            "percent": readiness.percent,
            "blocking_pass": readiness.blocking_pass,
            "waived": sum(1 for v in readiness.items if v.waived),
        },
        "sections": [
            {
                "number": number,
                "id": progress.section.id,
                "title": progress.section.title,
                "passed": progress.passed,
                "waived": sum(1 for v in progress.items if v.waived),
                "total": progress.total,
                "items": [
                    {
                        "id": v.item.id,
                        "title": v.item.title,
                        "group": v.item.group,
                        "automated": v.item.automated,
                        "blocking": v.item.blocking,
                        "owner": v.item.owner,
                        "weight": v.item.weight,
                        "status": item_status(v),
                        "latest": v.status.value,
                        "reason": v.reason,
                        "at": iso(v.at),
                        "ticked_by": _person(v.by, names),
                        "waiver": item_waiver(v.waiver if v.waived else None, shown),
                    }
                    for v in progress.items
                ],
            }
            for number, progress in enumerate(readiness.sections, 1)
        ],
        "signoff": {
            "roles": [
                {
                    "id": p.role_id,
                    "title": p.role.title,
                    "final": p.role.final,
                    "min_signers": p.role.min_signers,
                    "complete": p.complete,
                    "attestations": list(p.role.attestations),
                    "signatures": [_signature_json(s, names) for s in p.signatures],
                }
                for p in view.roles
            ],
            "stale": [
                {**_signature_json(s.signature, names), "reason": str(s.staleness.phrase())}
                for s in view.stale
            ],
            "rejections": [
                {
                    **(_person(r.user_id, names) or {}),
                    "reason": r.reason,
                    "created_at": iso(r.created_at),
                }
                for r in view.rejections
            ],
            "withdrawn_rejections": [
                {
                    **(_person(r.user_id, names) or {}),
                    "reason": r.reason,
                    "created_at": iso(r.created_at),
                    "withdrawn_at": iso(r.withdrawn_at),
                }
                for r in doc.withdrawn_rejections
            ],
        },
        "authorization": {
            "approved": auth.approved,
            "state": release.state.value,
            "approved_at": iso(release.approved_at),
            "conditions": [{"kind": c.kind, "text": c.text, "met": c.met} for c in auth.conditions],
            **reasons_json(view),
            "window": {"start": iso(release.window_start), "end": iso(release.window_end)},
            "team": [_person(u, names) for u in release.deploy_team],
            "rollback_plan": release.rollback_plan,
            "freeze_exceptions": [
                {
                    "freeze": e.freeze_id,
                    "title": e.title,
                    "until": iso(e.ends_at),
                    "granted_by": _person(e.granted_by, names),
                    "granted_at": iso(e.granted_at),
                    "reason": e.reason,
                }
                for e in view.exceptions
            ],
        },
        "waivers": [waiver_record(view, w, shown) for w in view.waivers],
        "post_deploy": {
            "deployed_at": iso(release.deployed_at),
            "deployed_by": _person(release.deployed_by, names),
            "phases": [
                {
                    "id": phase.id,
                    "title": phase.title,
                    "start": iso(windows[phase.id].start) if phase.id in windows else None,
                    "end": iso(windows[phase.id].end) if phase.id in windows else None,
                    "items": [i.id for i in doc.phase_items(phase)],
                    "digest": _digest_json(doc.digest(phase.id)),
                }
                for phase in doc.phases
            ],
            "latest": {
                key: {"status": r.status.value, "reason": r.reason, "at": iso(r.at)}
                for key, r in doc.post_results.items()
            },
            "alerts": [
                {
                    "item": a.item_id,
                    "title": doc.post_title(a.item_id),
                    "opened_at": iso(a.opened_at),
                    "reason": a.reason,
                    "recovered_at": iso(a.recovered_at),
                    "acknowledged_by": _person(a.acknowledged_by, names),
                    "rolled_back_by": _person(a.rolled_back_by, names),
                }
                for a in doc.alerts
            ],
        },
        "audit": {
            "head": doc.audit.head,
            "events": doc.audit.events,
            "verified": doc.audit.verified,
            "problem": doc.audit.problem,
        },
    }


def _digest_json(digest: DigestRecord | None) -> dict[str, Any] | None:
    if digest is None:
        return None
    return {
        "posted_at": iso(digest.posted_at),
        "late": digest.late,
        "start": iso(digest.start),
        "end": iso(digest.end),
        "items": [
            {
                "id": i.id,
                "title": i.title,
                "manual": i.manual,
                "runs": i.runs,
                "passed": i.passed,
                "healthy": i.healthy,
                "worst": i.worst,
                "last_status": i.last_status,
                "last_reason": i.last_reason,
            }
            for i in digest.items
        ],
        "breaches": [
            {
                "item": b.item,
                "opened_at": iso(b.opened_at),
                "recovered_at": iso(b.recovered_at),
                "reason": b.reason,
                "acknowledged_by": b.acknowledged_by,
                "rolled_back_by": b.rolled_back_by,
            }
            for b in digest.breaches
        ],
    }
