"""Events API deliveries, each handled once: Slack retries an event it thinks was missed."""

from __future__ import annotations

from bot.services.deps import Deps


class EventLog:
    def __init__(self, deps: Deps) -> None:
        self.deps = deps

    async def first(self, event_id: str | None) -> bool:
        """True the first time an event id is seen (a delivery without one always is)."""
        if not event_id:
            return True
        async with self.deps.db.write() as repo:
            return await repo.first_delivery(str(event_id)[:60], self.deps.clock.now())
