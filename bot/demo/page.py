"""The demo's page and its small JSON API, added to the bot's own web server.

The page never talks to the bot directly. What a person does there (a command, a click, a
modal submitted or closed) comes here and is turned by SlackDriver into the request Slack
would send: the same payload, signed with the signing secret, POSTed to /slack/events.
What the bot sends back through the Web API lands in FakeSlack, and every change reaches
the page as a snapshot over server-sent events (`/demo/events?user=U…`).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import httpx
from aiohttp import web

from bot.demo.files import file_response, shared_file
from bot.demo.forms import Refused, missing_fields, picked_values
from bot.demo.people import CHANNEL, PEOPLE, channel
from bot.demo.snapshot import JSON, snapshot
from bot.demo.target import EFFECTS, PARTS, TargetState
from bot.domain.products import Catalog
from bot.fake_slack import FakeSlack, FakeSlackThread, SlackDriver
from bot.fake_slack.driver import Clickable

log = logging.getLogger(__name__)
T = TypeVar("T")

STATIC = Path(__file__).with_name("static")
COMMAND = "/readiness"
KEEP_ALIVE = 15.0  # seconds between SSE comments when nothing changes
COALESCE = 0.05  # a burst of changes becomes one snapshot
# No inline script or style, nothing from elsewhere: message text can't become code.
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
)
_MENTION = re.compile(r"@readiness\b", re.IGNORECASE)
LOOPBACK = ("127.0.0.1", "localhost", "::1")
WILDCARD = ("", "0.0.0.0", "::")  # noqa: S104 - names, compared with


def _escape(text: str) -> str:
    """What Slack's client does to a typed message before sending it."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


class DemoPage:
    """The routes of the page; `driver` is set once the bot listens (its URL has a port)."""

    def __init__(
        self,
        fake: FakeSlackThread,
        target: TargetState,
        catalog: Catalog,
        host: str = LOOPBACK[0],
    ) -> None:
        self.fake = fake
        self.target = target
        self.catalog = catalog  # the products: who holds which role in each, what each is
        # The names this page answers to: a page elsewhere that rebinds its own name to
        # 127.0.0.1 is not one of them. Listening on every interface accepts any name.
        self.names = None if host in WILDCARD else {*LOOPBACK, host}
        self.driver: SlackDriver | None = None
        self.parts = [{"id": part, "effect": EFFECTS.get(part, "")} for part in PARTS]
        self._changed = asyncio.Event()
        self._closing = False
        self._loop = asyncio.get_running_loop()
        self._acting = asyncio.Lock()  # one signed request at a time, as one person clicks
        fake.on_change(self._notify)

    # --- wiring -----------------------------------------------------------------------

    def routes(self, app: web.Application) -> None:
        app.router.add_get("/", self.index)
        app.router.add_static("/demo/static", STATIC, append_version=False)
        app.router.add_get("/demo/state", self.state)
        app.router.add_get("/demo/events", self.events)
        app.router.add_get("/demo/files/{file_id}", self.file)
        app.router.add_post("/demo/command", self.command)
        app.router.add_post("/demo/click", self.click)
        app.router.add_post("/demo/submit", self.submit)
        app.router.add_post("/demo/close", self.close)
        app.router.add_post("/demo/home", self.home)
        app.router.add_post("/demo/break", self.set_broken)
        app.on_shutdown.append(self._shutdown)

    async def _shutdown(self, _: web.Application) -> None:
        self._closing = True
        self._bump()

    def _notify(self) -> None:
        """Called on the fake's thread after each change."""
        with contextlib.suppress(RuntimeError):  # the demo's loop is closing
            self._loop.call_soon_threadsafe(self._bump)

    def _bump(self) -> None:
        self._changed.set()
        self._changed = asyncio.Event()

    # --- reading ----------------------------------------------------------------------

    async def index(self, _: web.Request) -> web.StreamResponse:
        return web.FileResponse(
            STATIC / "index.html",
            headers={
                "Content-Security-Policy": CSP,
                "X-Content-Type-Options": "nosniff",
                "Cache-Control": "no-cache",
            },
        )

    async def snapshot(self, user: str) -> JSON:
        broken = set(self.target.broken)

        def read(fake: FakeSlack) -> JSON:
            return snapshot(fake, user, broken, self.parts, self.catalog)

        return await asyncio.to_thread(self.fake.on_loop, read)

    def _foreign(self, request: web.Request) -> bool:
        """Asked under a name that is not this machine's (DNS rebinding)."""
        if self.names is None:
            return False
        return request.url.host not in self.names

    async def state(self, request: web.Request) -> web.Response:
        user = _user(request.query.get("user"))
        if self._foreign(request):
            return web.json_response({"error": "not this host"}, status=403)
        if user is None:
            return web.json_response({"error": "unknown user"}, status=400)
        return web.json_response(await self.snapshot(user))

    async def file(self, request: web.Request) -> web.Response:
        """A file shared in the channel (an exported document), as plain text to read."""
        if self._foreign(request):
            return web.json_response({"error": "not this host"}, status=403)
        file_id = request.match_info["file_id"]
        found = await asyncio.to_thread(self.fake.on_loop, lambda f: shared_file(f, file_id))
        return file_response(found)

    async def events(self, request: web.Request) -> web.StreamResponse:
        """Server-sent events: a `state` event with the whole snapshot whenever it changes."""
        user = _user(request.query.get("user"))
        if self._foreign(request):
            return web.json_response({"error": "not this host"}, status=403)
        if user is None:
            return web.json_response({"error": "unknown user"}, status=400)
        response = web.StreamResponse(
            headers={
                "Content-Type": "text/event-stream",
                "Cache-Control": "no-cache",
                "X-Accel-Buffering": "no",
            }
        )
        await response.prepare(request)
        last = ""
        with contextlib.suppress(ConnectionError):
            await response.write(b"retry: 1000\n\n")
            while not self._closing:
                changed = self._changed
                body = json.dumps(await self.snapshot(user), separators=(",", ":"))
                if body != last:
                    await response.write(f"event: state\ndata: {body}\n\n".encode())
                    last = body
                try:
                    await asyncio.wait_for(changed.wait(), KEEP_ALIVE)
                except TimeoutError:
                    await response.write(b": keep-alive\n\n")
                await asyncio.sleep(COALESCE)
        return response

    # --- acting -----------------------------------------------------------------------

    async def _act(self, request: web.Request, act: Callable[[JSON, str], T]) -> T:
        """Decode the page's JSON and run `act(body, user)` on a worker thread."""
        if request.content_type != "application/json":
            # A cross-site form can't send JSON without asking first (CORS): no CSRF.
            raise Refused("send JSON")
        if self._foreign(request):
            raise Refused("not this host")
        try:
            body = await request.json()
        except json.JSONDecodeError:
            raise Refused("not JSON") from None
        if not isinstance(body, dict):
            raise Refused("expected an object")
        user = _user(body.get("user"))
        if user is None:
            raise Refused("unknown user")
        async with self._acting:
            return await asyncio.to_thread(act, body, user)

    async def _answer(self, request: web.Request, act: Callable[[JSON, str], JSON]) -> web.Response:
        try:
            return web.json_response(await self._act(request, act))
        except Refused as exc:
            return web.json_response({"ok": False, "error": str(exc)}, status=400)
        except httpx.HTTPError as exc:
            log.warning("the bot did not answer the demo: %s", exc)
            return web.json_response({"ok": False, "error": "the bot did not answer"}, status=502)

    def _driver(self) -> SlackDriver:
        if self.driver is None:
            raise Refused("the bot is still starting")
        return self.driver

    async def command(self, request: web.Request) -> web.Response:
        """A line typed in the composer: a slash command, or a message to the channel."""
        return await self._answer(request, self._typed)

    def _typed(self, body: JSON, user: str) -> JSON:
        text = str(body.get("text") or "").strip()
        if not text:
            raise Refused("nothing typed")
        where = _channel(body)
        if text.startswith("/"):
            command, _, rest = text.partition(" ")
            if command != COMMAND:
                return {"ok": False, "error": f"{command} is not a command here; try {COMMAND}"}
            return _sent(self._driver().command(user, rest.strip(), where, COMMAND))
        said = _escape(text)
        mentions = bool(_MENTION.search(said))
        said = _MENTION.sub("<@UBOT>", said)

        def post(fake: FakeSlack) -> str:
            message = fake.workspace.post(where, said, user=user)
            fake.touch()
            return message.ts

        ts = self.fake.on_loop(post)
        if not mentions:
            return {"ok": True}
        event = {"type": "app_mention", "user": user, "text": said, "ts": ts, "channel": where}
        return _sent(self._driver().event(event))

    async def click(self, request: web.Request) -> web.Response:
        """A button, an overflow option or a select in a message, an ephemeral or a modal."""
        return await self._answer(request, self._click)

    def _click(self, body: JSON, user: str) -> JSON:
        driver = self._driver()
        action_id = str(body.get("action_id") or "")
        value = body.get("value")
        where = body.get("where")
        ts = str(body.get("ts") or "")
        try:
            if where in ("message", "ephemeral"):
                home = _channel(body)
                found: list[Clickable] = (
                    [m for m in [self.fake.message(home, ts)] if m is not None]
                    if where == "message"
                    else [e for e in self.fake.ephemerals(user, home) if e.message_ts == ts]
                )
                if not found:
                    raise Refused("that message is gone")
                return _sent(driver.click(user, found[-1], action_id, value, home))
            if where == "view":
                view = self._open_view(str(body.get("view_id") or ""), user)
                values = picked_values(view.blocks, body.get("values"))
                return _sent(driver.click_in_view(user, view.id, action_id, value, values))
        except (AssertionError, ValueError) as exc:
            raise Refused(str(exc)) from None
        raise Refused("where was that?")

    async def submit(self, request: web.Request) -> web.Response:
        """A modal's submit button: Slack's own check of required fields, then the payload."""
        return await self._answer(request, self._submit)

    def _submit(self, body: JSON, user: str) -> JSON:
        driver = self._driver()
        view = self._open_view(str(body.get("view_id") or ""), user)
        values = picked_values(view.blocks, body.get("values"))
        missing = missing_fields(view.blocks, values)
        if missing:  # Slack's client says so itself; the app never hears of it
            return {"ok": False, "errors": missing}
        try:
            answer = driver.submit(user, view.id, values, enforce_required=True)
        except ValueError as exc:
            raise Refused(str(exc)) from None
        after = self.fake.view(view.id)
        errors = after.errors if after is not None else {}
        return {"ok": answer.status_code == 200 and not errors, "errors": errors}

    async def close(self, request: web.Request) -> web.Response:
        return await self._answer(request, self._close)

    def _close(self, body: JSON, user: str) -> JSON:
        view = self._open_view(str(body.get("view_id") or ""), user)
        self._driver().dismiss(user, view.id)
        return {"ok": True}

    async def home(self, request: web.Request) -> web.Response:
        """The app's Home tab opened: Slack sends the app an app_home_opened event."""
        return await self._answer(request, lambda _, user: _sent(self._driver().open_home(user)))

    def _open_view(self, view_id: str, user: str) -> Any:
        view = self.fake.view(view_id)
        if view is None or view.user != user or view.closed:
            raise Refused("that modal is not open")
        return view

    async def set_broken(self, request: web.Request) -> web.Response:
        """A switch of the target panel: break a part of LUMINES, or mend it."""
        try:
            if request.content_type != "application/json":
                raise Refused("send JSON")
            if self._foreign(request):
                raise Refused("not this host")
            body = await request.json()
            part = str(body.get("part") or "") if isinstance(body, dict) else ""
            if part not in PARTS:
                raise Refused(f"no part {part!r}")
        except (Refused, json.JSONDecodeError) as exc:
            return web.json_response({"ok": False, "error": str(exc)}, status=400)
        if body.get("broken"):
            self.target.broken.add(part)
        else:
            self.target.broken.discard(part)
        self._bump()
        return web.json_response({"ok": True, "broken": sorted(self.target.broken)})


def _user(raw: object) -> str | None:
    return next((p.id for p in PEOPLE if p.id == raw), None)


def _channel(body: JSON) -> str:
    """The demo channel the page acted in (the first, when it does not say)."""
    raw = body.get("channel") or CHANNEL
    found = channel(raw)
    if found is None:
        raise Refused(f"no channel {str(raw)[:40]!r} here")
    return found.id


def _sent(response: httpx.Response) -> JSON:
    """What the bot answered the signed request (200 and, for a modal, its errors)."""
    if response.status_code != 200:
        return {"ok": False, "error": f"the bot answered HTTP {response.status_code}"}
    return {"ok": True}
