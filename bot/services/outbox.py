"""What must still reach Slack: cards to post or refresh, notices to send."""

from __future__ import annotations

import time

from bot.db.outbox import ALERT, EditedMessages, PendingEdit, PendingMessage
from bot.db.releases import PendingCard
from bot.db.uow import UnitOfWork
from bot.domain.errors import NotFound
from bot.domain.monitoring import breach_alert
from bot.domain.notices import BreachAlert, WaiverRequestNow
from bot.domain.view import ReleaseView
from bot.domain.waiver_rules import request_notice
from bot.services.deps import Deps, Service
from bot.services.records import load_release, load_view

CHANNEL_LEASE = 20.0  # seconds a replica sends a channel for; renewed as it sends
RENEW_AFTER = 5.0  # a lease this old is renewed before the next send


class OutboxService(Service):
    def __init__(self, deps: Deps) -> None:
        super().__init__(deps)
        self._held: dict[str, float] = {}  # channel -> when this replica last renewed it

    async def hold(self, channels: set[str]) -> set[str]:
        """Of CHANNELS, those this process sends now. SQLite has one process; on PostgreSQL
        a channel is held by one replica at a time, under a lease renewed before each send
        (so a long pass never outlives it), so its posts keep their order and none goes
        twice; a dead replica's channels pass to another within the lease."""
        if self.deps.db.dialect != "postgresql" or not channels:
            return channels
        now = time.monotonic()
        fresh = {c for c in channels if now - self._held.get(c, -RENEW_AFTER) < RENEW_AFTER}
        if fresh == channels:
            return channels
        async with self.deps.db.write() as uow:
            held = await uow.coordination.hold_channels(
                self.deps.replica, sorted(channels), CHANNEL_LEASE
            )
        for channel in channels:
            if channel in held:
                self._held[channel] = now
            else:
                self._held.pop(channel, None)
        return held

    async def let_go(self) -> None:
        """This process is stopping: the channels it sends pass on now, to another replica
        or to the process that replaces it, not once their leases run out."""
        self._held.clear()
        if self.deps.db.dialect == "postgresql":
            async with self.deps.db.write() as uow:
                await uow.coordination.let_go_channels(self.deps.replica)

    async def cards(self) -> list[PendingCard]:
        """Cards to bring up to date; those of a product no longer configured wait until it
        is back (the rest are not held up by them)."""
        async with self.deps.db.read() as uow:
            found = await uow.releases.pending_cards()
        return [card for card in found if card.product in self.catalog.products]

    async def card(self, pending: PendingCard) -> tuple[ReleaseView, int]:
        """The view a pending card shows and the version it reflects: the one the
        transaction that made that version built, else read (with its version) now."""
        view = self.deps.cards.take(pending.release_id, pending.version)
        if view is not None:
            return view, pending.version
        async with self.deps.db.read() as uow:
            versions = {p.release_id: p.version for p in await uow.releases.pending_cards()}
            release = await load_release(uow, pending.release_id)
            view = await load_view(uow, self.deps.config(release), release)
        return view, versions.get(pending.release_id, 0)

    async def alert(self, message_id: int) -> tuple[BreachAlert, int] | None:
        """A breach's message as it stands, and the version that is (None: it is gone)."""
        async with self.deps.db.read() as uow:
            breach = await uow.monitoring.message(message_id)
            if breach is None:
                return None
            release = await load_release(uow, breach.release_id)
            version = await uow.monitoring.message_version(message_id)
        app = self.catalog.get(release.product)
        if app is None:  # a product no longer configured: as it was queued
            return None
        return breach_alert(app, release, breach), version

    async def waiver_request(self, waiver_id: int) -> tuple[WaiverRequestNow, int] | None:
        """A waiver's request message as it stands, and its version (None: it is gone)."""
        async with self.deps.db.read() as uow:
            found = await uow.waivers.get(waiver_id)
            if found is None:
                return None
            release_id, waiver, version = found
            release = await load_release(uow, release_id)
        app = self.catalog.get(release.product)
        if app is None:  # a product no longer configured: as it was queued
            return None
        request = request_notice(app, release_id, waiver)
        return WaiverRequestNow(request, waiver, release.state), version

    async def live(
        self, kind: str, message_id: int
    ) -> tuple[BreachAlert | WaiverRequestNow, int] | None:
        """What a message edited in place shows now, and its version (None: nothing)."""
        if kind == ALERT:
            return await self.alert(message_id)
        return await self.waiver_request(message_id)

    async def edits(self) -> list[PendingEdit]:
        """Messages in the cards' threads edited in place (breach alerts, waiver requests)
        whose newest version is not in Slack yet."""
        async with self.deps.db.read() as uow:
            found = [
                *await uow.monitoring.pending_messages(),
                *await uow.waivers.pending_messages(),
            ]
        return [edit for edit in found if await self._configured(edit.release_id)]

    async def _configured(self, release_id: int) -> bool:
        try:
            await self.deps.config_of(release_id)
        except NotFound:
            return False
        return True

    async def edit_posted(self, kind: str, message_id: int, ts: str, version: int) -> None:
        """An edited message is in Slack at TS, showing VERSION: edited there from now on."""
        async with self.deps.db.write() as uow:
            await _edited(uow, kind).message_sent(message_id, version, ts)

    async def edit_sent(self, kind: str, message_id: int, version: int) -> None:
        async with self.deps.db.write() as uow:
            await _edited(uow, kind).message_sent(message_id, version)

    async def messages(self) -> list[PendingMessage]:
        async with self.deps.db.read() as uow:
            return await uow.outbox.pending()

    async def card_sent(self, release_id: int, version: int, card_ts: str | None = None) -> None:
        async with self.deps.db.write() as uow:
            await uow.releases.card_sent(release_id, version, card_ts)

    async def card_attempt(self, release_id: int) -> None:
        async with self.deps.db.write() as uow:
            await uow.releases.card_attempt(release_id)

    async def message_attempt(self, message_id: int) -> None:
        async with self.deps.db.write() as uow:
            await uow.outbox.attempt(message_id)

    async def message_sent(self, message_id: int) -> None:
        async with self.deps.db.write() as uow:
            await uow.outbox.sent(message_id, self.deps.clock.now())

    async def message_failed(self, message_id: int, error: str, give_up: bool) -> None:
        async with self.deps.db.write() as uow:
            await uow.outbox.failed(message_id, error, give_up, self.deps.clock.now())

    async def pending(self) -> dict[str, int]:
        """What still has to reach Slack: messages and card versions (for /metrics)."""
        async with self.deps.db.read() as uow:
            return {
                "message": await uow.outbox.pending_count(),
                "card": await uow.releases.pending_card_count(),
            }


def _edited(uow: UnitOfWork, kind: str) -> EditedMessages:
    """Where an edited message of KIND keeps its ts and versions."""
    return uow.monitoring if kind == ALERT else uow.waivers
