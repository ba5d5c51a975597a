"""The one path by which cards and thread messages reach Slack.

Services record what must be sent in the same transaction as the change, and the commit
wakes this sender; it delivers it: the card is rendered when sent (latest state wins, so
bursts of changes coalesce into one chat.update), updates of one card are spaced by
`slack.card_update_interval`, posts in one channel by `slack.post_interval`, a 429 pauses
that method for its Retry-After, and 5xx or network errors back off and retry.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import defaultdict
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import aiohttp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.db.outbox import ALERT, WAIVER, PendingEdit, PendingMessage
from bot.db.releases import PendingCard
from bot.domain.notices import BreachAlert, WaiverRequested
from bot.services.outbox import OutboxService
from bot.slack.blocks.card import card, card_text
from bot.slack.blocks.notices import render

log = logging.getLogger(__name__)

EVENT_TYPE = "readiness_post"  # message metadata: which card or outbox row a post is

PERMANENT = {
    "channel_not_found",
    "not_in_channel",
    "is_archived",
    "invalid_blocks",
    "msg_too_long",
    "no_text",
    "cant_update_message",
    "message_not_found",
    "invalid_auth",
    "account_inactive",
    "token_revoked",
    "missing_scope",
}


class Retry(Exception):
    def __init__(self, method: str, after: float) -> None:
        super().__init__(f"{method}: retry in {after:.1f}s")
        self.method, self.after = method, after


class Outbound:
    def __init__(
        self,
        client: AsyncWebClient,
        outbox: OutboxService,
        wake: asyncio.Event,
        card_interval: float,
        post_interval: float,
        on_card: Callable[[], None] | None = None,
        idle: float = 30.0,
    ) -> None:
        self.client, self.outbox, self.wake = client, outbox, wake
        self.idle = idle  # look again this often unwoken (another replica's lease may end)
        self.card_interval, self.post_interval = card_interval, post_interval
        self.on_card = on_card  # told after each card is sent: what it shows changed
        self._paused: dict[str, float] = {}  # method -> monotonic time it may be used again
        self._card_sent_at: dict[int, float] = {}
        self._edited_at: dict[tuple[str, int], float] = {}  # an alert's or a request's
        self._posted_at: dict[str, float] = defaultdict(float)
        self._failures: dict[str, int] = {}  # method -> consecutive 5xx/network failures
        self._backoff = 1.0  # after a pass that raised (the database, not Slack)

    async def run(self) -> None:
        """Deliver forever; wakes when something is queued, or to retry what is due."""
        self.wake.set()  # on start, deliver whatever a previous process left
        while True:
            # asyncio.timeout, not wait_for: on 3.11 wait_for can swallow the cancellation
            # that stops the sender (CPython gh-86296), and shutdown then hangs.
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self.idle):
                    await self.wake.wait()
            self.wake.clear()
            try:
                next_due = await self.deliver()
                self._backoff = 1.0
            except Exception:
                log.exception("outbound delivery failed; retrying in %.0fs", self._backoff)
                next_due = self._backoff
                self._backoff = min(self._backoff * 2, 60.0)
            if next_due is not None:
                asyncio.get_running_loop().call_later(max(next_due, 0.05), self.wake.set)

    async def _mine(self, channel: str) -> bool:
        """Still this replica's to send, its lease renewed if it is getting old."""
        return channel in await self.outbox.hold({channel})

    async def deliver(self) -> float | None:
        """One pass. Returns the seconds until something held back falls due, if anything."""
        waits: list[float] = []
        cards, edits = await self.outbox.cards(), await self.outbox.edits()
        # With replicas, each channel is sent by one of them at a time, in order.
        mine = await self.outbox.hold({p.channel for p in cards} | {e.channel for e in edits})
        for pending in cards:
            if pending.channel not in mine or not await self._mine(pending.channel):
                continue
            if wait := await self._card(pending):
                waits.append(wait)
        for edit in edits:
            if edit.channel not in mine or not await self._mine(edit.channel):
                continue
            if wait := await self._edit(edit):
                waits.append(wait)
        messages = await self.outbox.messages()  # after the cards: their threads exist now
        mine |= await self.outbox.hold({m.channel for m in messages} - mine)
        held: set[str] = set()  # channels where an earlier message waits: keep their order
        for message in messages:
            if message.channel not in mine or not await self._mine(message.channel):
                continue
            if message.channel in held:
                continue
            wait = self._wait(
                "chat.postMessage", self._posted_at[message.channel], self.post_interval
            )
            if wait:
                waits.append(wait)
                held.add(message.channel)
                continue
            thread_ts = message.thread_ts if message.in_thread else None
            key = {"message": message.id}
            try:
                if message.attempts:
                    landed = await self._posted(message.channel, thread_ts, message.created_at, key)
                    if landed:  # it landed before a crash
                        await self._landed(message, landed, 0)
                        await self.outbox.message_sent(message.id)
                        continue
                await self.outbox.message_attempt(message.id)
                text, blocks, version = await self._rendered(message)
                response = await self.client.chat_postMessage(
                    channel=message.channel,
                    thread_ts=thread_ts,
                    text=text,
                    blocks=blocks,
                    metadata={"event_type": EVENT_TYPE, "event_payload": key},
                )
                self._failures.pop("chat.postMessage", None)
            except (SlackApiError, aiohttp.ClientError, TimeoutError) as exc:
                wait = await self._failed("chat.postMessage", exc, message.id)
                if wait:  # retried later: what follows in this channel waits for it
                    waits.append(wait)
                    held.add(message.channel)
                continue
            finally:
                self._posted_at[message.channel] = time.monotonic()
            await self._landed(message, str(response["ts"]), version)
            await self.outbox.message_sent(message.id)
        return min(waits) if waits else None

    @staticmethod
    def _edited(message: PendingMessage) -> tuple[str, int] | None:
        """The kind and id of the message edited in place that MESSAGE posts, if it is one
        (a breach's alert, a waiver's request)."""
        notice = message.notice
        if isinstance(notice, BreachAlert):
            return ALERT, notice.message
        if isinstance(notice, WaiverRequested):
            return WAIVER, notice.waiver
        return None

    async def _rendered(self, message: PendingMessage) -> tuple[str, list[Any] | None, int]:
        """What goes to Slack, and the version it shows of a message edited in place: that
        message as it stands now; any other notice as queued; a row an older version
        queued as it was stored (its text was mrkdwn then)."""
        edited = self._edited(message)
        if edited is not None:
            live = await self.outbox.live(*edited)
            if live is not None:
                return (*render(live[0]), live[1])
        if message.notice is not None:
            return (*render(message.notice), 0)
        return message.text, message.blocks, 0

    async def _landed(self, message: PendingMessage, ts: str, version: int) -> None:
        """A posted alert or waiver request is edited from now on: remember where it is."""
        edited = self._edited(message)
        if edited is not None:
            await self.outbox.edit_posted(*edited, ts, version)

    async def _edit(self, pending: PendingEdit) -> float:
        """Bring a posted alert or request up to date (chat.update, paced like a card's)."""
        key = (pending.kind, pending.id)
        wait = self._wait("chat.update", self._edited_at.get(key, 0.0), self.card_interval)
        if wait:
            return wait
        live = await self.outbox.live(pending.kind, pending.id)
        if live is None:
            return 0.0
        shown, version = live
        text, blocks = render(shown)
        try:
            await self.client.chat_update(
                channel=pending.channel, ts=pending.ts, text=text, blocks=blocks
            )
        except (SlackApiError, aiohttp.ClientError, TimeoutError) as exc:
            wait = await self._failed("chat.update", exc, None)
            if wait == 0.0:  # permanent: stop trying this version
                await self.outbox.edit_sent(pending.kind, pending.id, version)
            return wait
        self._failures.pop("chat.update", None)
        self._edited_at[key] = time.monotonic()
        await self.outbox.edit_sent(pending.kind, pending.id, version)
        return 0.0

    def _wait(self, method: str, last: float, interval: float) -> float:
        now = time.monotonic()
        return max(self._paused.get(method, 0.0) - now, last + interval - now, 0.0)

    async def _posted(
        self,
        channel: str,
        thread_ts: str | None,
        since: datetime | None,
        key: dict[str, int],
    ) -> str | None:
        """The ts of our message carrying `key`, if Slack has it: a post that was sent but
        not recorded (the process died in between) must not be sent twice."""
        oldest = f"{(since or datetime.now(UTC)).timestamp() - 60:.6f}"
        args: dict[str, Any] = {"channel": channel, "oldest": oldest, "limit": 200}
        if thread_ts:
            answer = await self.client.conversations_replies(
                ts=thread_ts, include_all_metadata=True, **args
            )
        else:
            answer = await self.client.conversations_history(include_all_metadata=True, **args)
        for found in answer.get("messages") or []:
            metadata = found.get("metadata") or {}
            if metadata.get("event_type") == EVENT_TYPE and metadata.get("event_payload") == key:
                return str(found["ts"])
        return None

    async def _card(self, pending: PendingCard) -> float:
        release_id, card_ts = pending.release_id, pending.card_ts
        method = "chat.update" if card_ts else "chat.postMessage"
        wait = self._wait(
            method, self._card_sent_at.get(release_id, 0.0) if card_ts else 0.0, self.card_interval
        )
        if wait:
            return wait
        view, version = await self.outbox.card(pending)
        blocks, text = card(view), card_text(view)
        try:
            if card_ts:
                await self.client.chat_update(
                    channel=view.release.channel, ts=card_ts, text=text, blocks=blocks
                )
                await self.outbox.card_sent(release_id, version)
            else:
                key = {"card": release_id}
                found = None
                if pending.attempted:
                    found = await self._posted(
                        view.release.channel, None, view.release.created_at, key
                    )
                if found:  # posted before a crash: bring it up to date instead
                    await self.outbox.card_sent(release_id, 0, found)
                    self.wake.set()
                    return 0.0
                await self.outbox.card_attempt(release_id)
                response = await self.client.chat_postMessage(
                    channel=view.release.channel,
                    text=text,
                    blocks=blocks,
                    metadata={"event_type": EVENT_TYPE, "event_payload": key},
                )
                await self.outbox.card_sent(release_id, version, str(response["ts"]))
        except (SlackApiError, aiohttp.ClientError, TimeoutError) as exc:
            wait = await self._failed(method, exc, None)
            if wait == 0.0:  # permanent: stop trying this version of the card
                await self.outbox.card_sent(release_id, version)
            return wait
        self._failures.pop(method, None)
        self._card_sent_at[release_id] = time.monotonic()
        if self.on_card is not None:
            self.on_card()
        return 0.0

    async def _failed(self, method: str, exc: BaseException, message_id: int | None) -> float:
        """Decide what a failure means; returns seconds to wait (0.0 = permanent, dropped)."""
        if isinstance(exc, SlackApiError):
            status = exc.response.status_code
            error = str(exc.response.get("error", "")) if exc.response.data else ""
            if status == 429:
                after = float(exc.response.headers.get("Retry-After", 1) or 1)
                self._paused[method] = time.monotonic() + after
                log.warning("%s rate limited; pausing it %.0fs", method, after)
                return after
            if error in PERMANENT:
                log.error("%s refused permanently: %s", method, error)
                if message_id is not None:
                    await self.outbox.message_failed(message_id, error, give_up=True)
                return 0.0
            reason = f"HTTP {status} {error}".strip()
        else:
            reason = f"{type(exc).__name__}: {exc}"
        # Exponential per method (1 s, 2 s, 4 s … 60 s) until one of its calls succeeds.
        failures = self._failures[method] = self._failures.get(method, 0) + 1
        after = min(2.0 ** (failures - 1), 60.0)
        self._paused[method] = time.monotonic() + after
        log.warning("%s failed (%s); retrying in %.0fs", method, reason, after)
        if message_id is not None:
            await self.outbox.message_failed(message_id, reason, give_up=False)
        return after
