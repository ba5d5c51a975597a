"""The Sign form's fields by name. The rules key what must change by these names, and the
Slack modal's input blocks carry the same ones (`bot/slack/ids.py`)."""

from enum import StrEnum


class SignField(StrEnum):
    ATTESTATIONS = "attestations"
    COMMENT = "comment"
    # Section 10, in the final approver's form.
    WINDOW_START = "window_start"
    WINDOW_END = "window_end"
    TEAM = "deploy_team"
    ROLLBACK_PLAN = "rollback_plan"
