"""bot/web.py holds background work back only for requests Slack signed: a connection that
sends headers and never its body (no signature needed) can't delay anyone's replies."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from aiohttp import web
from slack_bolt.async_app import AsyncApp

from bot.db import Database
from bot.services.tasks import TaskRunner
from bot.web.server import build_web


@pytest.fixture
async def server(tmp_path: Path) -> AsyncIterator[tuple[int, TaskRunner]]:
    tasks = TaskRunner(settle=0.01, yield_limit=30)
    bolt = AsyncApp(signing_secret="secret", token="xoxb-unused")
    db = Database(f"sqlite+aiosqlite:///{tmp_path / 'r.db'}")
    runner = web.AppRunner(build_web(bolt, db, "secret", tasks))
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    yield port, tasks
    await runner.cleanup()
    await tasks.drain()
    await db.close()


async def test_a_half_sent_unsigned_request_does_not_hold_work_back(
    server: tuple[int, TaskRunner],
) -> None:
    port, tasks = server
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(
        b"POST /slack/events HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-"
        b"urlencoded\r\nX-Slack-Request-Timestamp: 1700000000\r\nContent-Length: 100\r\n\r\n"
    )
    await writer.drain()
    await asyncio.sleep(0.2)  # the server is now waiting for a body that never comes
    done = asyncio.Event()

    async def reply() -> None:
        done.set()

    tasks.spawn(reply())
    await asyncio.wait_for(done.wait(), timeout=10)  # held back, it would wait 30 s
    writer.close()
    with pytest.raises((ConnectionError, OSError, asyncio.IncompleteReadError)):
        await reader.readexactly(1)
