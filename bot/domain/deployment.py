"""Who may mark a release deployed and answer its post-deploy alerts, and when."""

from __future__ import annotations

from bot.domain.checklist import AppConfig
from bot.domain.errors import InvalidState, NotAuthorized
from bot.domain.model import SHIPPED, ReleaseState
from bot.domain.text import joined
from bot.domain.view import ReleaseView


def _titles(app: AppConfig, role_ids: list[str], more: str | None = None) -> str:
    """`the DevOps Lead`, `the DevOps Lead or the CTO`, `the A, the B or the C`."""
    named = [f"the {app.roles[r].title}" for r in role_ids] + ([more] if more else [])
    return named[0] if len(named) == 1 else ", ".join(named[:-1]) + " or " + named[-1]


def check_can_deploy(app: AppConfig, view: ReleaseView, held: frozenset[str]) -> None:
    """Responders (the DevOps Lead, the final approver) mark an approved release deployed."""
    release = view.release
    if not held & set(app.responder_roles):
        raise NotAuthorized(
            f"Only {_titles(app, app.responder_roles)} can mark a release deployed."
        )
    if release.state in SHIPPED:
        raise InvalidState(f"{release.name} is already marked deployed.")
    if release.state is ReleaseState.CANCELLED:
        raise InvalidState(f"{release.name} is cancelled.")
    if not view.authorization.approved:
        reasons = joined((r.phrase() for r in view.authorization.reasons), "; ")
        raise InvalidState(
            f"{release.name} is not approved for production deployment: ",
            reasons or release.state.value,
            ".",
        )


def check_can_answer_alert(
    app: AppConfig, view: ReleaseView, held: frozenset[str], user: str
) -> None:
    """Responders and the deployment team acknowledge a breach or decide to roll back."""
    if held & set(app.responder_roles) or user in view.release.deploy_team:
        return
    raise NotAuthorized(
        f"Only {_titles(app, app.responder_roles, 'the deployment team')} can answer this alert."
    )


def responders_to_call(app: AppConfig, view: ReleaseView) -> list[str]:
    """Who an alert mentions: those who signed as a responder role, else the roles' members."""
    roles = set(app.responder_roles)
    signed = [p.user_id for p in view.signatures if p.role_id in roles]
    if signed:
        return list(dict.fromkeys(signed))
    return list(dict.fromkeys(m for r in app.responder_roles for m in app.roles[r].members))
