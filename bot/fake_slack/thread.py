"""FakeSlackThread: the fake in its own event loop, for synchronous tests and demos.

Every accessor runs on the fake's loop and hands back a deep copy, so what a test
holds never changes under it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any, TypeVar

from bot.fake_slack.loop import FakeThread
from bot.fake_slack.model import JSON, Call, Ephemeral, Message, Response, UploadedFile, User, View
from bot.fake_slack.server import FakeSlack

T = TypeVar("T")


class FakeSlackThread(FakeThread[FakeSlack]):
    """Runs a FakeSlack on a daemon thread; `with FakeSlackThread() as fake: ...`."""

    def __init__(self, **options: Any) -> None:
        super().__init__("fake-slack", "FakeSlackThread", lambda: FakeSlack(**options))

    @property
    def base_url(self) -> str:
        return self.fake.base_url

    @property
    def bot_token(self) -> str:
        return self.fake.bot_token

    # --- the FakeSlack API, thread-safe -------------------------------------------------

    def on_change(self, listener: Callable[[], None]) -> None:
        """`listener()` runs on the fake's thread after every change (see FakeSlack.on_change)."""
        self.on_loop(lambda f: f.on_change(listener))

    def calls(self, method: str | None = None) -> list[Call]:
        return self.on_loop(lambda f: f.calls(method))

    def clear(self) -> None:
        self.on_loop(lambda f: f.clear())

    def summary(self) -> str:
        return self.on_loop(lambda f: f.summary())

    def fail(
        self,
        method: str,
        status: int = 429,
        count: int = 1,
        retry_after: int = 1,
        error: str = "ratelimited",
        ts: str | None = None,
    ) -> None:
        self.on_loop(lambda f: f.fail(method, status, count, retry_after, error, ts))

    def delay(self, method: str, seconds: float, count: int | None = None) -> None:
        self.on_loop(lambda f: f.delay(method, seconds, count))

    def add_user(self, user_id: str, name: str, real_name: str = "", **more: Any) -> User:
        return self.on_loop(lambda f: f.add_user(user_id, name, real_name, **more))

    def add_usergroup(self, group_id: str, users: Iterable[str], handle: str = "") -> None:
        members = list(users)
        self.on_loop(lambda f: f.add_usergroup(group_id, members, handle))

    def add_channel(self, channel_id: str, name: str, is_private: bool = False) -> None:
        self.on_loop(lambda f: f.add_channel(channel_id, name, is_private))

    def allow_socket_mode(self, url: str, app_token: str = "xapp-test") -> None:  # noqa: S107
        self.on_loop(lambda f: f.allow_socket_mode(url, app_token))

    def issue_trigger_id(self, user: str, view_id: str | None = None, age: float = 0.0) -> str:
        return self.on_loop(lambda f: f.issue_trigger_id(user, view_id, age))

    def new_response_url(
        self,
        channel: str | None = None,
        user: str | None = None,
        message_ts: str | None = None,
        ephemeral: bool = False,
    ) -> str:
        return self.on_loop(lambda f: f.new_response_url(channel, user, message_ts, ephemeral))

    def close_view(self, view_id: str, whole_stack: bool = False) -> None:
        self.on_loop(lambda f: f.close_view(view_id, whole_stack))

    def settle_submission(self, view_id: str, state: JSON, status: int, body: str) -> None:
        self.on_loop(lambda f: f.settle_submission(view_id, state, status, body))

    def messages(self, channel: str, include_replies: bool = False) -> list[Message]:
        return self.on_loop(lambda f: f.messages(channel, include_replies))

    def message(self, channel: str, ts: str) -> Message | None:
        return self.on_loop(lambda f: f.message(channel, ts))

    def last_message(self, channel: str) -> Message | None:
        return self.on_loop(lambda f: f.last_message(channel))

    def thread(self, channel: str, ts: str) -> list[Message]:
        return self.on_loop(lambda f: f.thread(channel, ts))

    def ephemerals(self, user: str | None = None, channel: str | None = None) -> list[Ephemeral]:
        return self.on_loop(lambda f: f.ephemerals(user, channel))

    def last_ephemeral(self, user: str | None = None) -> Ephemeral | None:
        return self.on_loop(lambda f: f.last_ephemeral(user))

    def views(self, user: str | None = None) -> list[View]:
        return self.on_loop(lambda f: f.views(user))

    def view(self, view_id: str) -> View | None:
        return self.on_loop(lambda f: f.view(view_id))

    def open_views(self, user: str | None = None) -> list[View]:
        return self.on_loop(lambda f: f.open_views(user))

    def top_view(self, user: str) -> View | None:
        return self.on_loop(lambda f: f.top_view(user))

    def home(self, user: str) -> View | None:
        return self.on_loop(lambda f: f.home(user))

    def responses(self) -> list[Response]:
        return self.on_loop(lambda f: f.responses())

    def files(self) -> list[UploadedFile]:
        return self.on_loop(lambda f: f.files())

    def user(self, user_id: str) -> User | None:
        return self.on_loop(lambda f: f.user(user_id))

    def channel_name(self, channel_id: str) -> str:
        return self.on_loop(lambda f: f.channel_name(channel_id))

    def dm_channel(self, user_id: str) -> str:
        return self.on_loop(lambda f: f.dm_channel(user_id))
