"""Who may let a release deploy during a change freeze, and when."""

from __future__ import annotations

from datetime import datetime

from bot.domain.checklist import AppConfig
from bot.domain.errors import InvalidState, NotAuthorized
from bot.domain.freezes import ChangeFreeze, holds
from bot.domain.model import PRE_DEPLOY, ReleaseState
from bot.domain.signoff import MAX_REASON, check_text
from bot.domain.view import ReleaseView


def check_can_except(
    app: AppConfig, view: ReleaseView, held: frozenset[str], reason: str | None, now: datetime
) -> tuple[list[ChangeFreeze], str]:
    """The freezes holding the release that a member of the final role excepts it from, and
    the reason (required). REASON None: only asking whether the person may."""
    release = view.release
    final = app.roles[app.final_role]
    if app.final_role not in held:
        raise NotAuthorized(
            f"Only the {final.title} can let a release deploy during a change freeze."
        )
    if release.state not in PRE_DEPLOY or release.state is ReleaseState.CANCELLED:
        raise InvalidState(f"{release.name} is {release.state.value}: no freeze holds it.")
    frozen = holds(app.freezes, view.exceptions, now)
    if not frozen:
        raise InvalidState(f"No change freeze holds {release.name} now.")
    said = check_text(reason, "reason", MAX_REASON, required=True) if reason is not None else ""
    return frozen, said or ""
