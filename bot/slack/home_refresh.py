"""Open Home tabs follow the releases: after a card changes, the Home of everyone who opened
theirs lately is published again. Slack says when a Home is opened, never when it is
closed, so "lately" is an hour; past it, opening the tab again brings it up to date."""

from __future__ import annotations

import asyncio
import logging

from slack_sdk.web.async_client import AsyncWebClient

from bot.services.home import HomeService
from bot.slack.blocks.home import home_view
from bot.slack.replies import describe

log = logging.getLogger(__name__)

WATCH = 3600.0  # seconds a Home tab is kept current after it was opened
SETTLE = 2.0  # changes within this long are published once
PACE = 0.7  # seconds between two publishes: under views.publish's ~100 a minute


class HomeRefresher:
    def __init__(
        self,
        home: HomeService,
        client: AsyncWebClient,
        watch: float = WATCH,
        settle: float = SETTLE,
        pace: float = PACE,
    ) -> None:
        self.home, self.client, self.watch, self.settle = home, client, watch, settle
        self.pace = pace
        self._changed = asyncio.Event()

    def changed(self) -> None:
        """Something the Homes show changed (a card was updated)."""
        self._changed.set()

    async def run(self) -> None:
        """One round of publishes per burst of changes; changes made during a round bring
        one more round after it."""
        while True:
            await self._changed.wait()
            await asyncio.sleep(self.settle)
            self._changed.clear()
            try:
                await self.refresh()
            except Exception:  # the database, for one: the next change tries again
                log.exception("refreshing the home tabs failed")

    async def refresh(self) -> int:
        """Publish every watched Home again; returns how many."""
        done, users = 0, self.home.watched(self.watch)
        if not users:
            return 0
        views = await self.home.open_views()  # once for the round, not once per Home
        for n, user in enumerate(users):
            if n:
                await asyncio.sleep(self.pace)
            try:
                view = home_view(await self.home.home(user, views))
                await self.client.views_publish(user_id=user, view=view)
                done += 1
            except Exception as exc:  # one Home failing must not stop the others
                log.warning(
                    "refreshing the home tab of %s failed: %s", user, describe(exc, plain=True)
                )
        return done
