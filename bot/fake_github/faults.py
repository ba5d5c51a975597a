"""Faults the fake can inject: the next calls whose path contains a string fail, or are
answered late. A failed call changes nothing; a late one is still carried out when its
answer is sent (if the client gave up by then, GitHub has acted all the same)."""

from __future__ import annotations

from dataclasses import dataclass

from aiohttp import web

from bot.fake_github.model import DOCS


@dataclass
class Fault:
    path: str
    status: int
    remaining: int
    retry_after: int | None = None
    message: str | None = None


@dataclass
class Delay:
    path: str
    seconds: float
    remaining: int


def take_fault(faults: list[Fault], path: str) -> Fault | None:
    for fault in faults:
        if fault.path in path:
            fault.remaining -= 1
            if fault.remaining <= 0:
                faults.remove(fault)
            return fault
    return None


def take_delay(delays: list[Delay], path: str) -> float:
    for delay in delays:
        if delay.path in path:
            delay.remaining -= 1
            if delay.remaining <= 0:
                delays.remove(delay)
            return delay.seconds
    return 0.0


def fault_reply(fault: Fault) -> tuple[web.Response, object]:
    """5xx: the bare text page GitHub's edge answers; anything else GitHub's JSON error
    (429 and 403 with Retry-After when one was given, as its rate limits do)."""
    headers = {"Retry-After": str(fault.retry_after)} if fault.retry_after is not None else None
    if fault.status >= 500:
        text = fault.message or "Server Error"
        return web.Response(status=fault.status, text=text, headers=headers), text
    body = {"message": fault.message or "Fault injected by the test", "documentation_url": DOCS}
    return web.json_response(body, status=fault.status, headers=headers), body
