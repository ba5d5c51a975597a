"""The pipeline API's shapes: what a call may carry (validated request bodies) and what it
answers (a release and the gate as JSON). Pure: no HTTP, no storage."""

from __future__ import annotations

import dataclasses
import json
import re
from datetime import datetime
from typing import Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    HttpUrl,
    ValidationError,
    ValidationInfo,
    field_validator,
)

from bot.documents.json_export import (
    item_status,
    item_waiver,
    plain_json,
    reasons_json,
    waiver_record,
)
from bot.domain.model import Release
from bot.domain.readiness import ItemView
from bot.domain.text import clean
from bot.domain.view import ReleaseView

MAX_VALUES = 10 * 1024  # bytes of the values as compact JSON
MAX_REASON = 500
MAX_BY = 40  # the width of the deployed_by and audit actor columns


# --- request bodies --------------------------------------------------------------------------


class ResultIn(BaseModel):
    """What CI pushes for one checklist item. Validated with `context={"items": ids}` to name
    an unknown item; the service refuses items a person ticks."""

    model_config = ConfigDict(extra="forbid")

    item: str = Field(min_length=1, max_length=60)
    status: Literal["pass", "fail", "error"]
    reason: str = Field(default="", max_length=MAX_REASON)
    values: dict[str, Any] = Field(default_factory=dict)
    url: HttpUrl | None = None  # the CI run; http(s) only

    @field_validator("item")
    @classmethod
    def _known_item(cls, value: str, info: ValidationInfo) -> str:
        known = (info.context or {}).get("items")
        if known is not None and value not in known:
            raise ValueError(f"no checklist item {value!r}")
        return value

    @field_validator("reason")
    @classmethod
    def _one_line(cls, value: str) -> str:
        return re.sub(r"\s+", " ", clean(value))

    @field_validator("values")
    @classmethod
    def _small(cls, value: dict[str, Any]) -> dict[str, Any]:
        size = len(json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode())
        if size > MAX_VALUES:
            raise ValueError(f"values are {size} bytes as JSON, at most {MAX_VALUES}")
        return value

    def recorded_values(self) -> dict[str, Any]:
        """The values as stored with the result: what CI measured, and where it ran."""
        values = dict(self.values)
        if self.url is not None:
            values["url"] = str(self.url)
        return values

    def recorded_reason(self) -> str:
        return self.reason or f"{self.status} (reported by CI)"


class DeployedIn(BaseModel):
    """Who marks it deployed: a pipeline's name, shown in the thread and the audit log."""

    model_config = ConfigDict(extra="forbid")

    by: str = Field(default="api", min_length=1, max_length=MAX_BY, pattern=r"^[\w .:/@+#-]+$")

    @field_validator("by", mode="before")
    @classmethod
    def _trim(cls, value: Any) -> Any:
        return clean(value) if isinstance(value, str) else value


def validation_problems(exc: ValidationError) -> list[str]:
    """One line per problem, `field: what is wrong`."""
    problems = []
    for error in exc.errors(include_url=False):
        where = ".".join(str(part) for part in error["loc"]) or "body"
        message = error["msg"].removeprefix("Value error, ")
        if error["type"] == "extra_forbidden":
            message = "unknown field"
        problems.append(f"{where}: {message}")
    return problems


# --- answers ---------------------------------------------------------------------------------


def _at(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def _deployment(release: Release) -> dict[str, Any]:
    window = None
    if release.window_start is not None or release.window_end is not None:
        window = {"start": _at(release.window_start), "end": _at(release.window_end)}
    return {
        "window": window,
        "team": list(release.deploy_team),
        "rollback_plan": release.rollback_plan,
        "deployed_at": _at(release.deployed_at),
        "deployed_by": release.deployed_by,
    }


def item_json(item: ItemView) -> dict[str, Any]:
    """One checklist item of a release as the API shows it."""
    return {
        "section": item.section_id,
        "id": item.item.id,
        "title": item.item.title,
        "automated": item.item.automated,
        "blocking": item.item.blocking,
        "status": item_status(item),  # `waived` while a waiver counts it
        "latest": item.status.value,  # the latest result, waived or not
        "reason": item.reason,
        "at": _at(item.at),
        "by": item.by,
        "waiver": item_waiver(item.waiver if item.waived else None),
    }


def release_json(view: ReleaseView) -> dict[str, Any]:
    """The release as the card shows it, for machines."""
    release = view.release
    auth = view.authorization
    return {
        "name": release.name,
        "product": view.product,
        "product_id": release.product,
        "state": release.state.value,
        "ref": release.ref,
        "channel": release.channel,
        "created_by": release.created_by,
        "created_at": _at(release.created_at),
        "approved_at": _at(release.approved_at),
        "readiness": view.readiness.percent,
        "checks_running": view.running,
        "sections": [
            {
                "id": progress.section.id,
                "title": progress.section.title,
                "passed": progress.passed,  # waived items among them
                "waived": sum(1 for item in progress.items if item.waived),
                "total": progress.total,
            }
            for progress in view.readiness.sections
        ],
        "items": [item_json(item) for item in view.readiness.items],
        "roles": [
            {
                "id": progress.role_id,
                "title": progress.role.title,
                "final": progress.role.final,
                "min_signers": progress.role.min_signers,
                "complete": progress.complete,
                "signatures": [
                    {
                        "user": signature.user_id,
                        "signed_at": _at(signature.signed_at),
                        "attestations": list(signature.attestations),
                        "comment": signature.comment,
                    }
                    for signature in progress.signatures
                ],
            }
            for progress in view.roles
        ],
        "stale": [
            {
                "role": stale.signature.role_id,
                "user": stale.signature.user_id,
                "signed_at": _at(stale.signature.signed_at),
                "reason": str(stale.staleness.phrase()),
                "staleness": plain_json(dataclasses.asdict(stale.staleness)),
            }
            for stale in view.stale
        ],
        "rejections": [
            {"user": r.user_id, "reason": r.reason, "at": _at(r.created_at)}
            for r in view.rejections
        ],
        "freeze_exceptions": [
            {
                "freeze": e.freeze_id,
                "title": e.title,
                "until": _at(e.ends_at),
                "granted_by": e.granted_by,
                "reason": e.reason,
                "granted_at": _at(e.granted_at),
            }
            for e in view.exceptions
        ],
        "waivers": [waiver_record(view, w) for w in view.waivers],  # oldest first
        "authorization": {
            "approved": auth.approved,
            **reasons_json(view),
            "conditions": [{"kind": c.kind, "text": c.text, "met": c.met} for c in auth.conditions],
        },
        "deployment": _deployment(release),
    }


def gate_json(view: ReleaseView, named: bool = False) -> tuple[int, dict[str, Any]]:
    """The gate's answer (NAMED: it names the product, as a bot of several products does)."""
    release = view.release
    product = {"product": release.product} if named else {}
    if view.authorization.approved:
        return 200, {
            "approved": True,
            "release": release.name,
            **product,
            "state": release.state.value,
            "ref": release.ref,
            "approved_at": _at(release.approved_at),
        }
    reasons = reasons_json(view)
    if not reasons["reasons"]:
        said = f"the release is {release.state.value}"
        reasons = {"reasons": [said], "reasons_detail": [{"kind": "state", "text": said}]}
    return 409, {
        "approved": False,
        "release": release.name,
        **product,
        "state": release.state.value,
        "ref": release.ref,
        **reasons,
    }
