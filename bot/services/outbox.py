"""What must still reach Slack: cards to post or refresh, thread messages to send."""

from __future__ import annotations

from bot.db.repo import PendingMessage
from bot.services.deps import Deps


class OutboxService:
    def __init__(self, deps: Deps) -> None:
        self.deps = deps

    async def messages(self) -> list[PendingMessage]:
        async with self.deps.db.read() as repo:
            return await repo.pending_messages()

    async def card_sent(self, release_id: int, version: int, card_ts: str | None = None) -> None:
        async with self.deps.db.write() as repo:
            await repo.card_sent(release_id, version, card_ts)

    async def message_attempt(self, message_id: int) -> None:
        async with self.deps.db.write() as repo:
            await repo.message_attempt(message_id)

    async def card_attempt(self, release_id: int) -> None:
        async with self.deps.db.write() as repo:
            await repo.card_attempt(release_id)

    async def message_sent(self, message_id: int) -> None:
        async with self.deps.db.write() as repo:
            await repo.message_sent(message_id, self.deps.clock.now())

    async def message_failed(self, message_id: int, error: str, give_up: bool) -> None:
        async with self.deps.db.write() as repo:
            await repo.message_failed(message_id, error, give_up, self.deps.clock.now())
