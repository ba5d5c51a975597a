"""Every action_id, callback_id and block_id, and what buttons and modals carry."""

from __future__ import annotations

import re

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from bot.domain.errors import InvalidInput
from bot.domain.forms import SignField

COMMAND = "/readiness"

SIGN_PREFIX = "sign:"  # + role id: one Sign button per role (action ids are unique per message)
SIGN = re.compile(r"^sign:[a-z0-9_]+$")
RUN_CHECKS = "run_checks"
CHECKLIST = "checklist"
MORE = "more"  # the overflow menu: withdraw, reject, withdraw rejection
DEPLOYED = "mark_deployed"
FREEZE_EXCEPTION = "freeze_exception"  # Deploy during freeze… (the final role)
LIST_NEWER, LIST_OLDER = "list_newer", "list_older"  # a /readiness list reply's pages
LIST_PAGE = re.compile(r"^list_(newer|older)$")
WAIVER_ASK = "waiver_ask"  # Request waiver… on a failing item of the Checklist
WAIVER_APPROVE, WAIVER_DENY = "waiver_approve", "waiver_deny"  # on the request in the thread
WAIVER_WITHDRAW = "waiver_withdraw"  # the grantor's, on the request once granted
ALERT_ACK = "alert_ack"  # on a post-deploy alert in the thread
ALERT_ROLLBACK = "alert_rollback"
CONFIRM, KEEP = "confirm", "keep"  # a private question before withdrawing or cancelling

OP_WITHDRAW = "withdraw"
OP_REJECT = "reject"
OP_UNREJECT = "unreject"
OP_CANCEL = "cancel"

SIGN_VIEW = "sign_view"
CHECKLIST_VIEW = "checklist_view"
CHECKLIST_SECTION = "checklist_section"  # the Checklist's section picker
REJECT_VIEW = "reject_view"
FREEZE_VIEW = "freeze_view"  # the exception's reason
WAIVER_VIEW = "waiver_view"  # the request's duration and reason
WAIVER_DENY_VIEW = "waiver_deny_view"  # the denial's reason

# The Sign form's input blocks are named by its fields, as the rules name them.
ATTESTATIONS = SignField.ATTESTATIONS.value
COMMENT = SignField.COMMENT.value
WINDOW_START = SignField.WINDOW_START.value  # the final approver's modal: section 10
WINDOW_END = SignField.WINDOW_END.value
DEPLOY_TEAM = SignField.TEAM.value
ROLLBACK_PLAN = SignField.ROLLBACK_PLAN.value
REASON = "reason"
DURATION = "duration"
MANUAL_PREFIX = "manual:"  # + section id + ":" + chunk number, in the Checklist modal
VALUE = "value"  # the action_id of every input element


SQLITE_MAX = 2**63 - 1  # the largest id SQLite stores; a bigger one is forged


class Ref(BaseModel):
    """What a button or modal carries: the release, and the role or operation when it matters."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    r: int = Field(ge=0, le=SQLITE_MAX)
    role: str | None = Field(default=None, max_length=60)
    op: str | None = Field(default=None, max_length=20)
    alert: int | None = Field(default=None, ge=0, le=SQLITE_MAX)  # an older version's alert
    m: int | None = Field(default=None, ge=0, le=SQLITE_MAX)  # a breach's alert message
    page: int | None = Field(default=None, ge=1, le=100_000)  # a page of a list
    s: str | None = Field(default=None, max_length=60)  # the Checklist's page: a section id
    p: str | None = Field(default=None, max_length=40)  # a list's product ("*": every one)
    w: int | None = Field(default=None, ge=0, le=SQLITE_MAX)  # a waiver
    i: str | None = Field(default=None, max_length=60)  # an item id

    def encode(self) -> str:
        return self.model_dump_json(exclude_none=True)

    @classmethod
    def decode(cls, raw: str | None) -> Ref:
        try:
            return cls.model_validate_json(raw or "")
        except ValidationError:
            raise InvalidInput(
                "That button or form is out of date; open the release again."
            ) from None
