"""A bare Bolt app that only acks, served like Readiness serves its app (aiohttp adapter).

    python bench/bare_bolt.py PORT SLACK_API_URL PROCESS_BEFORE_RESPONSE(0|1)

The signing secret comes from SLACK_SIGNING_SECRET. GET /healthz answers once it listens.
"""

from __future__ import annotations

import os
import re
import sys
from typing import Any

from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request
from slack_bolt.async_app import AsyncApp
from slack_sdk.web.async_client import AsyncWebClient


def build(api_url: str, process_before_response: bool) -> web.Application:
    bolt = AsyncApp(
        signing_secret=os.environ["SLACK_SIGNING_SECRET"],
        client=AsyncWebClient(token="xoxb-test", base_url=api_url),  # the token lives in the client
        process_before_response=process_before_response,
    )

    @bolt.command("/readiness")
    async def command(ack: Any) -> None:
        await ack()

    @bolt.action(re.compile("^sign:"))
    async def sign(ack: Any) -> None:
        await ack()

    async def events(request: web.Request) -> web.Response:
        return await to_aiohttp_response(await bolt.async_dispatch(await to_bolt_request(request)))

    async def healthz(_: web.Request) -> web.Response:
        return web.json_response({"ok": True})

    app = web.Application()
    app.router.add_post("/slack/events", events)
    app.router.add_get("/healthz", healthz)
    return app


if __name__ == "__main__":
    port, api_url, before = int(sys.argv[1]), sys.argv[2], sys.argv[3] == "1"
    base = api_url if api_url.endswith("/") else api_url + "/"
    web.run_app(build(base, before), host="127.0.0.1", port=port, access_log=None, print=None)
