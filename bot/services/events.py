"""Events API deliveries, each handled once: Slack retries an event it thinks was missed."""

from __future__ import annotations

from bot.services.deps import Service


class EventLog(Service):
    async def first(self, event_id: str | None) -> bool:
        """True the first time an event id is seen (a delivery without one always is)."""
        if not event_id:
            return True
        async with self.deps.db.write() as uow:
            return await uow.marks.first_delivery(str(event_id)[:60], self.deps.clock.now())
