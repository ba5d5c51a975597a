"""Who people are, from Slack: user-group membership (usergroups.users.list), asked when
someone signs; display names and a card's link, for what is said outside Slack."""

from __future__ import annotations

import time

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.domain.errors import DomainError
from bot.domain.text import Code


class SlackDirectory:
    """Caches each group for `ttl` seconds: long enough to cover a click and its modal's
    submission, short enough that someone removed from a group soon can't sign."""

    def __init__(self, client: AsyncWebClient, ttl: float = 30.0) -> None:
        self.client, self.ttl = client, ttl
        self._cache: dict[str, tuple[float, frozenset[str]]] = {}

    async def usergroup_members(self, usergroup_id: str) -> frozenset[str]:
        cached = self._cache.get(usergroup_id)
        if cached and time.monotonic() - cached[0] < self.ttl:
            return cached[1]
        try:
            response = await self.client.usergroups_users_list(usergroup=usergroup_id)
        except SlackApiError as exc:
            raise DomainError(
                "I couldn't ask Slack who is in user group ",
                Code(usergroup_id),
                f" ({exc.response.get('error', 'error')}); please try again.",
            ) from None
        users = frozenset(str(u) for u in response.get("users") or [])
        self._cache[usergroup_id] = (time.monotonic(), users)
        return users

    async def names(self, users: list[str]) -> dict[str, str]:
        from bot.slack.exporting import display_names

        return await display_names(self.client, users)

    async def link(self, channel: str, ts: str) -> str | None:
        try:
            answer = await self.client.chat_getPermalink(channel=channel, message_ts=ts)
        except SlackApiError:
            return None
        return str(answer.get("permalink") or "") or None
