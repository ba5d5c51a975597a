"""The demo's configuration is the shipped app.yaml, with the demo's people and short times."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import yaml

from bot.config import load_app_config
from bot.demo.people import CHANNEL, PEOPLE
from bot.demo.settings import Wiring, demo_settings, shipped_config

WIRING = Wiring(
    slack_api_url="http://127.0.0.1:1/api/",
    target_url="http://127.0.0.1:2",
    database_url="sqlite+aiosqlite:///demo.db",
    signing_secret="secret",
    bot_token="xoxb-demo",
    api_token="token",
)


def test_the_shipped_checklist_with_the_demo_people_and_minutes(tmp_path: Path) -> None:
    settings = demo_settings(WIRING, tmp_path)
    app, shipped = settings.app, load_app_config(shipped_config(), {})
    assert [i.id for i in app.items] == [i.id for i in shipped.items]
    assert [i.id for i in app.post_deploy.items] == [i.id for i in shipped.post_deploy.items]
    assert app.channel == CHANNEL
    holders = {role: members.members for role, members in app.roles.items()}
    assert holders == {p.role: [p.id] for p in PEOPLE if p.role}
    assert [r.attestations for r in app.roles.values()] == [
        r.attestations for r in shipped.roles.values()
    ]
    phases = [(p.title, p.duration, p.every) for p in app.post_deploy.phases]
    assert phases == [
        ("Immediate (First Hour)", timedelta(minutes=1), timedelta(seconds=10)),
        ("Extended (First 24 Hours)", timedelta(minutes=2), timedelta(seconds=20)),
        ("Ongoing (First Week)", timedelta(minutes=3), timedelta(seconds=30)),
    ]
    assert app.schedules.tick == timedelta(seconds=2)


def test_every_check_points_at_the_demo_target(tmp_path: Path) -> None:
    settings = demo_settings(WIRING, tmp_path, fast=True)
    assert settings.env.slack_api_url == WIRING.slack_api_url
    assert settings.env.slack_signing_secret == "secret"
    assert all(p.duration == timedelta(seconds=4) for p in settings.app.post_deploy.phases)
    written = yaml.safe_load((tmp_path / "app.yaml").read_text())
    assert written["post_deploy"]["phases"][0]["duration"] == "4s"
    for item in [*settings.app.items, *settings.app.post_deploy.items]:
        if item.check is None:
            continue
        params = item.check.model_dump()
        urls = [str(v) for k, v in params.items() if k in ("url", "api_url") and v]
        assert all(url.startswith(WIRING.target_url) for url in urls), (item.id, urls)
