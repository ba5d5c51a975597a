"""Faults the fake can inject: rate limits, server errors, refusals and slow answers."""

from __future__ import annotations

from dataclasses import dataclass

from aiohttp import web

from bot.fake_slack.model import JSON


@dataclass
class Fault:
    """The next `remaining` calls of a method fail this way."""

    status: int
    retry_after: int
    error: str
    remaining: int
    ts: str | None = None  # only calls about this message (its `ts` argument)


@dataclass
class Delay:
    seconds: float
    remaining: int | None


def take_fault(faults: dict[str, list[Fault]], method: str, args: JSON) -> Fault | None:
    queued = faults.get(method) or []
    fault = next((f for f in queued if f.ts is None or f.ts == args.get("ts")), None)
    if fault is None:
        return None
    fault.remaining -= 1
    if fault.remaining <= 0:
        queued.remove(fault)
    return fault


def take_delay(delays: dict[str, Delay], method: str) -> float:
    delay = delays.get(method)
    if delay is None:
        return 0.0
    if delay.remaining is not None:
        delay.remaining -= 1
        if delay.remaining <= 0:
            del delays[method]
    return delay.seconds


def fault_reply(fault: Fault) -> tuple[web.Response, JSON | None]:
    if fault.status >= 500:
        return web.Response(status=fault.status), None
    body = {"ok": False, "error": fault.error}
    headers = {"Retry-After": str(fault.retry_after)} if fault.status == 429 else None
    return web.json_response(body, status=fault.status, headers=headers), body
