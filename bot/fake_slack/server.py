"""FakeSlack: a local HTTP server that answers like Slack's Web API and remembers everything.

The real `slack_sdk` client talks to it through `base_url=fake.api_url`. Besides
`/api/<method>` it serves the response_urls (`/response/<id>`) and file upload URLs
(`/upload/v1/<file_id>`) it hands out. Every request is recorded as a `Call`.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable, Iterable
from functools import partial
from typing import Any, TypeVar

from aiohttp import web
from aiohttp.web_request import FileField

from bot.fake_slack import limits
from bot.fake_slack.faults import Delay, Fault, fault_reply, take_delay, take_fault
from bot.fake_slack.model import (
    JSON,
    Call,
    Ephemeral,
    Message,
    Response,
    SlackError,
    Team,
    UploadedFile,
    User,
    View,
)
from bot.fake_slack.served import Served
from bot.fake_slack.surfaces import Surfaces
from bot.fake_slack.web_api import WebApi
from bot.fake_slack.workspace import Counter, Workspace

T = TypeVar("T")
RESPONSE_URL = "response_url"
UPLOAD = "upload"
JSON_FIELDS = ("blocks", "view", "metadata", "attachments", "files")


class FakeSlack(Served):
    """Slack's Web API on 127.0.0.1, with the state a workspace would have."""

    def __init__(
        self,
        bot_token: str = "xoxb-test",  # noqa: S107 - a test token
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        team: Team | None = None,
        strict: bool = True,
    ) -> None:
        super().__init__(web.Application(client_max_size=1024**3), host, port)
        self.bot_token = bot_token
        self.team = team or Team()
        ids = Counter()
        self.workspace = Workspace(self.team, ids)
        self.surfaces = Surfaces(self.team, ids)
        self.api = WebApi(self.workspace, self.surfaces, bot_token, lambda: self.base_url, strict)
        self.app.add_routes(
            [
                web.route("*", "/api/{method}", self._on_api),
                web.post("/response/{target}", self._on_response),
                web.post("/upload/v1/{file_id}", self._on_upload),
            ]
        )
        self._calls: list[Call] = []
        self._faults: dict[str, list[Fault]] = {}
        self._delays: dict[str, Delay] = {}
        self._listeners: list[Callable[[], None]] = []

    # --- lifecycle ----------------------------------------------------------------------

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}/"

    @property
    def api_url(self) -> str:
        return f"{self.base_url}api/"

    # --- HTTP ---------------------------------------------------------------------------

    async def _on_api(self, request: web.Request) -> web.StreamResponse:
        method = request.match_info["method"]
        try:
            args = await _read_args(request)
        except SlackError as bad:
            return await self._answer(method, {}, request, bad.body)
        bearer = request.headers.get("Authorization", "")
        token = bearer.removeprefix("Bearer ").strip() if bearer.startswith("Bearer ") else None
        token = token or (str(args["token"]) if args.get("token") else None)
        return await self._answer(method, args, request, lambda: self.api.call(method, args, token))

    async def _on_response(self, request: web.Request) -> web.StreamResponse:
        try:
            body = json.loads(await request.text() or "{}")
        except json.JSONDecodeError:
            body = {"_raw": await request.text()}
        target, url = request.match_info["target"], str(request.url)

        def apply() -> JSON:
            check = partial(limits.check_response, strict=self.api.strict)
            self.workspace.respond(target, url, body, time.time(), check)
            return {"ok": True}

        return await self._answer(RESPONSE_URL, body, request, apply, not_found=404)

    async def _on_upload(self, request: web.Request) -> web.StreamResponse:
        """Slack takes the file's bytes raw or multipart-encoded (its one file field)."""
        file_id = request.match_info["file_id"]
        if request.content_type == "multipart/form-data":
            form = await request.post()
            parts = [v.file.read() for v in form.values() if isinstance(v, FileField)]
            data = parts[0] if parts else b""
        else:
            data = await request.read()

        def apply() -> JSON:
            upload = self.workspace.files.get(file_id)
            if upload is None:
                raise SlackError("file_not_found")
            upload.data = data
            return {"ok": True}

        args = {"file_id": file_id, "length": len(data)}
        return await self._answer(UPLOAD, args, request, apply, not_found=404, plain=True)

    async def _answer(
        self,
        method: str,
        args: JSON,
        request: web.Request,
        apply: Callable[[], JSON],
        not_found: int = 200,
        plain: bool = False,
    ) -> web.StreamResponse:
        at, headers = time.time(), dict(request.headers)
        seconds = take_delay(self._delays, method)
        if seconds:
            await asyncio.sleep(seconds)
        fault = take_fault(self._faults, method, args)
        if fault is not None:
            reply, body = fault_reply(fault)
            self._record(Call(method, args, headers, at, fault.status, body, True, seconds))
            return reply
        status, said = 200, None
        try:
            body = apply()
        except SlackError as refused:
            body, status = refused.body(), refused.http_status or not_found
            said = refused.error if refused.http_status else None  # a webhook's: plain text
        self._record(Call(method, args, headers, at, status, body, False, seconds))
        if said is not None:
            return web.Response(text=said, status=status)
        if plain and status == 200:
            return web.Response(text=f"OK - {args.get('length', 0)}", content_type="text/plain")
        return web.json_response(body, status=status)

    def _record(self, call: Call) -> None:
        self._calls.append(call)
        self.touch()

    def touch(self) -> None:
        """Wake every `wait_for` to look again, and tell every `on_change` listener."""
        super().touch()
        for listener in self._listeners:
            listener()

    def on_change(self, listener: Callable[[], None]) -> None:
        """Call `listener()` on the fake's loop after every call or change (the demo's page
        follows the workspace live this way). It must be quick and must not raise."""
        self._listeners.append(listener)

    # --- faults and waiting -------------------------------------------------------------

    def fail(
        self,
        method: str,
        status: int = 429,
        count: int = 1,
        retry_after: int = 1,
        error: str = "ratelimited",
        ts: str | None = None,
    ) -> None:
        """The next `count` calls of `method` (about message `ts`, if given) answer HTTP
        `status` and change nothing.

        429 carries Retry-After; 5xx an empty body; any other status `{"ok": false, "error"}`.
        `method` may also be "response_url" or "upload".
        """
        fault = Fault(status, retry_after, error, count, ts)
        self._faults.setdefault(method, []).append(fault)

    def delay(self, method: str, seconds: float, count: int | None = None) -> None:
        """Answer `method` `seconds` late (the next `count` calls, or all until delay 0)."""
        if seconds <= 0:
            self._delays.pop(method, None)
        else:
            self._delays[method] = Delay(seconds, count)

    def calls(self, method: str | None = None) -> list[Call]:
        return [c for c in self._calls if method in (None, c.method)]

    def clear(self) -> None:
        """Forget recorded calls (the workspace's state stays)."""
        self._calls.clear()

    def summary(self, last: int = 30) -> str:
        """The recorded calls, one a line, for failure messages."""
        lines = [f"{len(self._calls)} call(s) recorded"]
        lines += [f"  {c.describe()}" for c in self._calls[-last:]]
        return "\n".join(lines)

    # --- setting the scene --------------------------------------------------------------

    def add_user(self, user_id: str, name: str, real_name: str = "", **more: Any) -> User:
        return self.workspace.add_user(user_id, name, real_name, **more)

    def add_usergroup(self, group_id: str, users: Iterable[str], handle: str = "") -> None:
        self.workspace.add_usergroup(group_id, users, handle)

    def add_channel(self, channel_id: str, name: str, is_private: bool = False) -> None:
        self.workspace.add_channel(channel_id, name, is_private)

    def allow_socket_mode(self, url: str, app_token: str = "xapp-test") -> None:  # noqa: S107
        """Make apps.connections.open answer `url` to `app_token`."""
        self.api.socket_url, self.api.app_token = url, app_token

    def issue_trigger_id(self, user: str, view_id: str | None = None, age: float = 0.0) -> str:
        return self.surfaces.issue_trigger(user, view_id, age)

    def new_response_url(
        self,
        channel: str | None = None,
        user: str | None = None,
        message_ts: str | None = None,
        ephemeral: bool = False,
    ) -> str:
        target = self.workspace.new_target(channel, user, message_ts, ephemeral, time.time())
        return f"{self.base_url}response/{target.id}"

    def close_view(self, view_id: str, whole_stack: bool = False) -> None:
        self.surfaces.close(view_id, whole_stack)
        self.touch()

    def settle_submission(self, view_id: str, state: JSON, status: int, body: str) -> None:
        self.surfaces.settle_submission(view_id, state, status, body)
        self.touch()

    # --- looking at the state -----------------------------------------------------------

    def messages(self, channel: str, include_replies: bool = False) -> list[Message]:
        return self.workspace.messages(channel, include_replies)

    def message(self, channel: str, ts: str) -> Message | None:
        try:
            return self.workspace.message(channel, ts)
        except SlackError:
            return None

    def last_message(self, channel: str) -> Message | None:
        found = self.workspace.messages(channel)
        return found[-1] if found else None

    def thread(self, channel: str, ts: str) -> list[Message]:
        """The replies under `ts` (not the parent), oldest first."""
        return self.workspace.replies(channel, ts)

    def ephemerals(self, user: str | None = None, channel: str | None = None) -> list[Ephemeral]:
        return [
            e
            for e in self.workspace.ephemerals
            if not e.deleted and user in (None, e.user) and channel in (None, e.channel)
        ]

    def last_ephemeral(self, user: str | None = None) -> Ephemeral | None:
        found = self.ephemerals(user)
        return found[-1] if found else None

    def views(self, user: str | None = None) -> list[View]:
        return [v for v in self.surfaces.views.values() if user in (None, v.user)]

    def view(self, view_id: str) -> View | None:
        return self.surfaces.views.get(view_id)

    def open_views(self, user: str | None = None) -> list[View]:
        return self.surfaces.open_views(user)

    def top_view(self, user: str) -> View | None:
        """The modal `user` is looking at now, if any."""
        found = self.surfaces.open_views(user)
        return found[-1] if found else None

    def home(self, user: str) -> View | None:
        return self.surfaces.views.get(self.surfaces.homes.get(user, ""))

    def responses(self) -> list[Response]:
        return list(self.workspace.responses)

    def files(self) -> list[UploadedFile]:
        return list(self.workspace.files.values())

    def user(self, user_id: str) -> User | None:
        return self.workspace.users.get(user_id)

    def channel_name(self, channel_id: str) -> str:
        return self.workspace.channel_name(channel_id)

    def dm_channel(self, user_id: str) -> str:
        return self.workspace.dm_channel(user_id)


async def _read_args(request: web.Request) -> JSON:
    """Query string, then form or JSON body; JSON sent as form text (blocks, view) decoded."""
    args = await _raw_args(request)
    for key in JSON_FIELDS:
        value = args.get(key)
        if isinstance(value, str) and value[:1] in ("[", "{"):
            try:
                args[key] = json.loads(value)
            except json.JSONDecodeError:
                pass  # left as sent: the method answers invalid_blocks_format / invalid_arguments
    return args


async def _raw_args(request: web.Request) -> JSON:
    args: JSON = dict(request.query)
    if not request.body_exists:
        return args
    if request.content_type == "application/json":
        try:
            body = json.loads(await request.text())
        except json.JSONDecodeError:
            raise SlackError("invalid_json") from None
        if not isinstance(body, dict):
            raise SlackError("invalid_json")
        args.update(body)
    elif request.content_type in ("application/x-www-form-urlencoded", "multipart/form-data"):
        form = await request.post()
        for key, value in form.items():
            if isinstance(value, FileField):
                args[key] = value.file.read()
            else:
                args[key] = value if isinstance(value, str) else bytes(value)
    return args
