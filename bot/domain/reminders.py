"""Who a sign-off is still waiting for, and who can act on it now."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from bot.config import AppConfig, Role
from bot.domain.model import Release, Signature
from bot.domain.signoff import role_progress


@dataclass(frozen=True)
class PendingRole:
    role_id: str
    role: Role
    missing: int  # signatures still needed
    members: tuple[str, ...]  # the role's members who may still sign it
    usergroups: tuple[str, ...]
    waiting: bool  # the final approval, which can't be given before the others

    @property
    def can_act(self) -> bool:
        return not self.waiting


def pending_roles(
    app: AppConfig, release: Release, signatures: Sequence[Signature]
) -> list[PendingRole]:
    """The roles not yet signed, in the checklist's order.

    A member who already holds another role on this release can't sign a second one,
    and the person who opened the release can't give its final approval: neither is
    listed as someone who may still sign.
    """
    signed = {s.user_id for s in signatures}
    progress = role_progress(app, signatures)
    others_done = all(p.complete for p in progress if not p.role.final)
    pending: list[PendingRole] = []
    for p in progress:
        if p.complete:
            continue
        members = tuple(
            m
            for m in p.role.members
            if m not in signed and not (p.role.final and m == release.created_by)
        )
        pending.append(
            PendingRole(
                p.role_id,
                p.role,
                p.role.min_signers - len(p.signatures),
                members,
                tuple(p.role.usergroups),
                waiting=p.role.final and not others_done,
            )
        )
    return pending
