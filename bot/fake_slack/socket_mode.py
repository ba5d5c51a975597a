"""Slack's side of Socket Mode: a local WebSocket server the app connects to.

Register its URL with the fake Web API (`fake.allow_socket_mode(server.url, app_token)`):
apps.connections.open then hands it to the app. Each connection gets Slack's `hello`;
`send()` delivers an envelope, and what the app sends back (its acks) is recorded. It runs
on its own event loop in a daemon thread, for synchronous tests.
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections.abc import Callable, Coroutine, Mapping
from typing import Any, TypeVar

from aiohttp import WSMsgType, web

from bot.fake_slack.loop import LoopThread
from bot.fake_slack.model import JSON
from bot.fake_slack.payloads import APP_ID

T = TypeVar("T")


class SocketModeServer:
    """`with SocketModeServer() as server: ...`; ws://127.0.0.1:<port>/link."""

    def __init__(self, host: str = "127.0.0.1", app_id: str = APP_ID) -> None:
        self.host, self.app_id, self.port = host, app_id, 0
        self.received: list[JSON] = []  # every text frame the app sent, parsed
        self.problems: list[str] = []  # frames Slack would not accept
        self.connections = 0
        self._sockets: list[web.WebSocketResponse] = []
        self._sent: dict[str, JSON] = {}  # envelope_id -> envelope
        self._changed = threading.Condition()
        self._loop = LoopThread("socket-mode", "SocketModeServer")
        self._runner: web.AppRunner | None = None

    # --- lifecycle ----------------------------------------------------------------------

    def start(self) -> SocketModeServer:
        self._loop.start()
        self._run(self._up())
        return self

    def stop(self) -> None:
        if not self._loop.running:
            return
        self._run(self._down())
        self._loop.stop()

    def __enter__(self) -> SocketModeServer:
        return self.start()

    def __exit__(self, *_: object) -> None:
        self.stop()

    @property
    def url(self) -> str:
        return f"ws://{self.host}:{self.port}/link"

    async def _up(self) -> None:
        app = web.Application()
        app.router.add_get("/link", self._on_connect)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=0.5)
        await self._runner.setup()
        await web.TCPSite(self._runner, self.host, 0).start()
        self.port = int(self._runner.addresses[0][1])

    async def _down(self) -> None:
        for ws in list(self._sockets):
            await ws.close()
        if self._runner is not None:
            await self._runner.cleanup()

    # --- Slack's side -------------------------------------------------------------------

    async def _on_connect(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse()  # answers the client's pings
        await ws.prepare(request)
        self._sockets.append(ws)
        await ws.send_json(
            {
                "type": "hello",
                "num_connections": len(self._sockets),
                "debug_info": {"host": "fake-slack", "approximate_connection_time": 18060},
                "connection_info": {"app_id": self.app_id},
            }
        )
        with self._changed:
            self.connections += 1
            self._changed.notify_all()
        try:
            async for message in ws:
                if message.type == WSMsgType.TEXT:
                    self._receive(str(message.data))
        finally:
            self._sockets.remove(ws)
        return ws

    def _receive(self, text: str) -> None:
        try:
            frame = json.loads(text)
        except json.JSONDecodeError:
            frame = {"_raw": text}
        problem = _ack_problem(frame, self._sent)
        with self._changed:
            self.received.append(frame)
            if problem:
                self.problems.append(problem)
            self._changed.notify_all()

    # --- what a test does ---------------------------------------------------------------

    def wait_connected(self, count: int = 1, timeout: float = 15.0) -> None:
        self._wait(lambda: self.connections >= count or None, timeout, "no connection")

    def send(self, envelope: Mapping[str, Any]) -> str:
        """Deliver an envelope on the newest connection; returns its envelope_id."""
        frame = dict(envelope)
        envelope_id = str(frame.setdefault("envelope_id", str(uuid.uuid4())))
        self._sent[envelope_id] = frame

        async def deliver() -> None:
            if not self._sockets:
                raise RuntimeError("the app is not connected")
            await self._sockets[-1].send_str(json.dumps(frame))

        self._run(deliver())
        return envelope_id

    def slash_command(self, fields: Mapping[str, str]) -> str:
        """A slash command: the form Slack would POST, as the envelope's JSON payload."""
        return self.send(
            {"type": "slash_commands", "payload": dict(fields), "accepts_response_payload": True}
        )

    def interactive(self, payload: Mapping[str, Any]) -> str:
        return self.send(
            {"type": "interactive", "payload": dict(payload), "accepts_response_payload": True}
        )

    def event(self, callback: Mapping[str, Any], retry_attempt: int = 0) -> str:
        """An Events API delivery (the `event_callback` body) as Socket Mode wraps it."""
        return self.send(
            {
                "type": "events_api",
                "payload": dict(callback),
                "accepts_response_payload": False,
                "retry_attempt": retry_attempt,
                "retry_reason": "",
            }
        )

    def ack(self, envelope_id: str, timeout: float = 3.0) -> JSON:
        """The app's acknowledgement of an envelope (Slack waits 3 s for it)."""
        return self._wait(
            lambda: next((f for f in self.received if f.get("envelope_id") == envelope_id), None),
            timeout,
            f"no ack for envelope {envelope_id}",
        )

    def _wait(self, found: Callable[[], T | None], timeout: float, what: str) -> T:
        deadline = time.monotonic() + timeout
        with self._changed:
            while True:
                result = found()
                if result is not None:
                    return result
                left = deadline - time.monotonic()
                if left <= 0:
                    raise TimeoutError(f"{what} within {timeout}s; received {self.received}")
                self._changed.wait(left)

    def _run(self, coro: Coroutine[Any, Any, T], timeout: float = 10.0) -> T:
        return self._loop.run(coro, timeout)


def _ack_problem(frame: JSON, sent: Mapping[str, JSON]) -> str | None:
    """What Slack would refuse in an ack: an unknown envelope, a payload it didn't ask for."""
    envelope_id = frame.get("envelope_id")
    if not isinstance(envelope_id, str) or envelope_id not in sent:
        return f"ack for an unknown envelope: {frame}"
    extra = set(frame) - {"envelope_id", "payload"}
    if extra:
        return f"unknown fields in the ack of {envelope_id}: {sorted(extra)}"
    if "payload" in frame and not sent[envelope_id].get("accepts_response_payload"):
        return f"a payload in the ack of {envelope_id}, which accepts none"
    return None
