"""Which roles a person holds: the role's members, plus its user groups asked at signing time."""

from __future__ import annotations

from bot.domain.checklist import AppConfig
from bot.services.deps import Directory


async def memberships(app: AppConfig, user_id: str, directory: Directory) -> frozenset[str]:
    held: set[str] = set()
    for role_id, role in app.roles.items():
        if user_id in role.members:
            held.add(role_id)
            continue
        for group in role.usergroups:
            if user_id in await directory.usergroup_members(group):
                held.add(role_id)
                break
    return frozenset(held)
