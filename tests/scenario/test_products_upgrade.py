"""A database from before products (schema 0004) upgrades in place: its releases belong to
the one product and still answer status, export and the gate."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from pathlib import Path

import httpx
from alembic import command
from sqlalchemy.engine import Connection

from bot.db import Database
from bot.db.migrate import alembic_config
from bot.fake_slack import FakeSlackThread
from tests.databases import Databases, columns
from tests.scenario.conftest import Slack
from tests.scenario.harness import ROOT, Bot, ThreadedTarget

TOKEN = "upgrade-api-token"


async def downgrade(url: str, revision: str) -> None:
    db = Database(url)

    def run(connection: Connection) -> None:
        config = alembic_config(url)
        config.attributes["connection"] = connection
        command.downgrade(config, revision)

    try:
        async with db.engine.begin() as connection:
            await connection.run_sync(run)
    finally:
        await db.close()


def test_a_database_from_before_products_upgrades_and_answers(
    fake: FakeSlackThread, target: ThreadedTarget, databases: Databases, tmp_path: Path
) -> None:
    name = "LUMINES 0.9.0"
    first = Bot(fake, target, tmp_path, databases.url(tmp_path), READINESS_API_TOKEN=TOKEN)
    first.start()
    try:
        slack = Slack(fake, first)
        slack.command("UREL", f"new {name}")
        slack.checks_done(name)
        assert slack.sign("UENG", name, "engineering_lead").status_code == 200
        slack.wait_card(name, "*Engineering Lead*: :white_check_mark: <@UENG>")
        slack.driver.close()
    finally:
        first.stop()
    url = first.database
    asyncio.run(downgrade(url, "0004"))  # the schema as the bot before products left it
    assert "product" not in columns(url, "releases")

    again = first.restarted().start()
    try:
        assert "product" in columns(url, "releases")
        assert again.sql("SELECT DISTINCT product FROM releases") == [("lumines_wis2l",)]
        slack = Slack(fake, again)
        assert f"{name}: " in slack.command("UREL", f"status {name}")
        answer = httpx.get(
            f"{again.url}/api/releases/{name}/gate",
            headers={"Authorization": f"Bearer {TOKEN}"},
            timeout=10,
        )
        assert answer.status_code == 409 and answer.json()["release"] == name
        slack.driver.close()
    finally:
        again.stop()
    exported = subprocess.run(
        [sys.executable, "-m", "bot", "export", *name.split(), "--format", "json"],
        env=again.env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert exported.returncode == 0, exported.stderr
    assert '"product_id": "lumines_wis2l"' in exported.stdout
    assert '"user": "UENG"' in exported.stdout or "UENG" in exported.stdout
