"""Reliability fixtures: the scenario fixtures (fake Slack, LUMINES target, the real bot
over HTTP), with a bot whose schedules are off, so row counts change only by what a test
does."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from bot.fake_slack import FakeSlackThread
from tests.databases import Databases
from tests.reliability.helpers import start_bot
from tests.scenario.conftest import fake, name, slack, target  # noqa: F401
from tests.scenario.harness import Bot, ThreadedTarget


@pytest.fixture(scope="module")
def bot(
    request: pytest.FixtureRequest,
    fake: FakeSlackThread,  # noqa: F811
    target: ThreadedTarget,  # noqa: F811
    module_databases: Databases,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Bot]:
    """One bot per module. A module may set `CHECKS = False` (every item manual: releases
    open without a check run) and `ROLES = {role: {setting: value}}`."""
    tmp = tmp_path_factory.mktemp("bot")
    running = start_bot(
        fake,
        target,
        tmp,
        module_databases.url(tmp),
        roles=getattr(request.module, "ROLES", None),
        checks=getattr(request.module, "CHECKS", True),
    )
    yield running
    running.stop()
