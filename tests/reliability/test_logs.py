"""No token or secret in the logs, or in anything sent to Slack, at DEBUG level, through a
flow that also hits the error paths (forged requests, Slack refusing and failing calls).

The fake Slack here issues a bot token shaped like a real one, so a leak can't hide
behind the scenario fake's short `xoxb-test`.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.fake_slack import FakeSlackThread
from tests.databases import Databases
from tests.reliability.helpers import open_release, post, settle, signed, start_bot
from tests.scenario.conftest import Slack
from tests.scenario.harness import CHANNEL, ROOT, SECRET, USERS, Bot, ThreadedTarget

pytestmark = pytest.mark.once(reason="what reaches the logs, not what is stored")

TOKEN = "xoxb-7205138746-5720381916-Rd1nsLogScanT0ken4xQ"  # the fake's, shaped as Slack's
API_TOKEN = "rdns-api-Kp3vQ9sLogScan"


@pytest.fixture(scope="module")
def fake() -> Iterator[FakeSlackThread]:
    with FakeSlackThread(bot_token=TOKEN) as thread:
        thread.add_channel(CHANNEL, "releases")
        for user_id, name in USERS.items():
            thread.add_user(user_id, name)
        thread.add_usergroup("SPRODUCT", ["UGROUP"], handle="product")
        yield thread


@pytest.fixture(scope="module")
def bot(
    fake: FakeSlackThread,
    target: ThreadedTarget,
    module_databases: Databases,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Bot]:
    tmp = tmp_path_factory.mktemp("bot")
    running = start_bot(
        fake,
        target,
        tmp,
        module_databases.url(tmp),
        LOG_LEVEL="DEBUG",
        READINESS_API_TOKEN=API_TOKEN,
    )
    yield running
    running.stop()


def test_no_token_or_secret_in_the_logs_or_in_slack(
    slack: Slack, bot: Bot, fake: FakeSlackThread, name: str
) -> None:
    assert slack.fake.bot_token == TOKEN
    secrets = {"bot token": TOKEN, "signing secret": SECRET, "API token": API_TOKEN}

    open_release(slack, name)
    assert slack.tick_own_items("UOPS", name).status_code == 200
    assert slack.sign("UENG", name, "engineering_lead", comment="ok").status_code == 200
    said = slack.refusal("UNOBODY", lambda: slack.click("UNOBODY", name, "sign:devops_lead"))
    assert "not an approver" in said
    assert "Readiness help" in slack.command("UREL", "frobnicate")
    # Forged and malformed requests, logged as refused.
    body = b"command=%2Freadiness&text=list&user_id=UREL"
    forged = {**signed(body), "X-Slack-Signature": "v0=" + "0" * 64}
    assert post(bot, body, forged).status_code == 401
    assert post(bot, b"payload=%7B", signed(b"payload=%7B")).status_code == 400
    # Slack failing and refusing calls: the sender logs each failure.
    fake.fail("chat.postMessage", status=500, count=1)
    fake.fail("chat.update", status=429, count=1, retry_after=1)
    assert slack.sign("UOPS", name, "devops_lead").status_code == 200
    settle(slack)
    fake.fail("chat.postMessage", status=200, count=1, error="invalid_auth")
    assert slack.sign("USEC", name, "security_lead").status_code == 200
    settle(slack)

    log = bot.log()
    assert "DEBUG" in log and "refused permanently: invalid_auth" in log  # the paths ran
    assert "rate limited" in log and "failed (HTTP 500" in log
    assert "'Authorization': '(redacted)'" in log  # Web API calls are logged, token redacted
    for what, secret in secrets.items():
        assert secret not in log, f"the {what} is in the log"
    for prefix in ("xoxb-", "xoxp-", "xapp-", "xoxe", "xoxa-", "xoxs-"):
        assert prefix not in log, f"a {prefix} token is in the log"
    # ...nor in anything the bot sent to Slack (messages, modals, replies).
    sent = json.dumps([c.args for c in fake.calls()]) + json.dumps(
        [r.body for r in fake.responses()]
    )
    assert len(fake.calls()) > 20
    for what, secret in secrets.items():
        assert secret not in sent, f"the {what} was sent to Slack"
    assert "xox" not in sent


def test_the_scheduler_says_only_what_goes_wrong(
    fake: FakeSlackThread, target: ThreadedTarget, databases: Databases, tmp_path: Path
) -> None:
    """Serving adds its jobs (the shipped re-check and reminder, and the tick) without a
    line each; the bot's own INFO lines still show."""
    served = Bot(fake, target, tmp_path, databases.url(tmp_path), LOG_LEVEL="INFO").start()
    served.stop()
    log = served.log()
    assert " INFO " in log
    assert "Adding job tentatively" not in log
    assert "apscheduler.scheduler" not in log


SCHEDULER_PROBLEMS = """
    import asyncio
    from datetime import UTC, datetime

    from apscheduler.schedulers.asyncio import AsyncIOScheduler

    from bot.runtime.logs import configure

    configure("INFO", "text")


    async def slow() -> None:
        await asyncio.sleep(0.5)


    async def broken() -> None:
        raise RuntimeError("the job broke")


    async def main() -> None:
        scheduler = AsyncIOScheduler(timezone=UTC)
        now = datetime.now(UTC)
        scheduler.add_job(slow, "interval", seconds=0.1, next_run_time=now, max_instances=1)
        scheduler.add_job(broken, next_run_time=now)
        scheduler.start()
        await asyncio.sleep(0.4)
        scheduler.shutdown(wait=False)


    asyncio.run(main())
"""


def test_scheduler_warnings_and_errors_still_show() -> None:
    """A real APScheduler, logging as `readiness serve` configures it: a job that overran
    its next run and a job that raised are said; adding a job is not."""
    done = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(SCHEDULER_PROBLEMS)],
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert "WARNING apscheduler.scheduler" in done.stderr
    assert "skipped: maximum number of running instances reached" in done.stderr
    assert "ERROR apscheduler.executors.default" in done.stderr
    assert "raised an exception" in done.stderr and "the job broke" in done.stderr
    assert "Adding job tentatively" not in done.stderr
