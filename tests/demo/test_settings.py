"""The demo's configuration is a directory of two products: LUMINES is the shipped app.yaml
with the demo's people and short times, Payments a smaller checklist with a Security Lead
of its own; each in its channel."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import yaml
from click.testing import CliRunner

from bot.cli import main
from bot.config import load_app_config
from bot.demo.people import CHANNEL, CHANNELS, PEOPLE
from bot.demo.settings import Wiring, demo_settings, shipped_config

WIRING = Wiring(
    slack_api_url="http://127.0.0.1:1/api/",
    target_url="http://127.0.0.1:2",
    database_url="sqlite+aiosqlite:///demo.db",
    signing_secret="secret",
    bot_token="xoxb-demo",
    api_token="token",
)


def test_lumines_is_the_shipped_checklist_with_the_demo_people_and_minutes(
    tmp_path: Path,
) -> None:
    settings = demo_settings(WIRING, tmp_path)
    app, shipped = settings.catalog.products["lumines"], load_app_config(shipped_config(), {})
    assert app.product == shipped.product == "LUMINES/WIS2L"
    assert [i.id for i in app.items] == [i.id for i in shipped.items]
    assert [i.id for i in app.post_deploy.items] == [i.id for i in shipped.post_deploy.items]
    assert app.channel == CHANNEL
    holders = {role: members.members for role, members in app.roles.items()}
    assert holders == {p.role: [p.id] for p in PEOPLE if p.role and "lumines" in p.products}
    assert [r.attestations for r in app.roles.values()] == [
        r.attestations for r in shipped.roles.values()
    ]
    phases = [(p.title, p.duration, p.every) for p in app.post_deploy.phases]
    assert phases == [
        ("Immediate (First Hour)", timedelta(minutes=1), timedelta(seconds=10)),
        ("Extended (First 24 Hours)", timedelta(minutes=2), timedelta(seconds=20)),
        ("Ongoing (First Week)", timedelta(minutes=3), timedelta(seconds=30)),
    ]
    assert app.post_deploy.grace == timedelta(minutes=1)
    assert app.schedules.recheck == "* * * * *" and app.schedules.reminder is None
    assert settings.catalog.bot.tick == timedelta(seconds=2)
    assert settings.catalog.bot.slack.post_interval == timedelta(milliseconds=100)


def test_the_directory_validates_with_two_products_each_in_its_channel(tmp_path: Path) -> None:
    settings = demo_settings(WIRING, tmp_path)
    catalog = settings.catalog
    assert catalog.directory and catalog.ids == ["lumines", "payments"]
    assert settings.config_path == tmp_path / "config"
    written = sorted(p.name for p in settings.config_path.iterdir())
    assert written == ["_base.yaml", "_settings.yaml", "lumines.yaml", "payments.yaml"]
    for where in CHANNELS:
        assert catalog.of_channel(where.id) == where.product
    assert catalog.of_channel("CELSEWHERE") is None

    lumines, payments = catalog.products["lumines"], catalog.products["payments"]
    assert payments.product == "Payments"
    assert payments.homes == ["CPAYMENTS"]
    # Smaller: a few of the base's sections, in the base's order.
    sections = [s.id for s in payments.sections]
    assert sections == ["application", "security", "final_validation"]
    assert len(payments.items) < len(lumines.items) / 2
    # Its own Security Lead; the other roles are held by the same people.
    assert payments.roles["security_lead"].members != lumines.roles["security_lead"].members
    assert set(payments.roles["security_lead"].members).isdisjoint(
        lumines.roles["security_lead"].members
    )
    assert payments.roles["cto"].members == lumines.roles["cto"].members

    # What `readiness config validate` says of the directory, as a user would run it.
    env = {"TARGET_URL": WIRING.target_url, "KUBERNETES_TOKEN_FILE": str(tmp_path / "k8s-token")}
    result = CliRunner().invoke(main, ["config", "validate", str(settings.config_path)], env=env)
    assert result.exit_code == 0, result.output
    assert "LUMINES/WIS2L (lumines) in CRELEASE: 8 sections" in result.output
    assert "Payments (payments) in CPAYMENTS: 3 sections" in result.output


def test_no_product_file_holds_the_bots_settings(tmp_path: Path) -> None:
    settings = demo_settings(WIRING, tmp_path, fast=True)
    for name in ("_base.yaml", "lumines.yaml", "payments.yaml"):
        written = yaml.safe_load((settings.config_path / name).read_text())
        assert not {"checks", "slack"} & set(written), name
        assert "tick" not in (written.get("schedules") or {}), name
        assert name == "_base.yaml" or written["extends"] == "_base.yaml"
    bot = yaml.safe_load((settings.config_path / "_settings.yaml").read_text())
    assert bot["schedules"] == {"tick": "250ms"}


def test_every_check_points_at_the_demo_target(tmp_path: Path) -> None:
    settings = demo_settings(WIRING, tmp_path, fast=True)
    assert settings.env.slack_api_url == WIRING.slack_api_url
    assert settings.env.slack_signing_secret == "secret"
    written = yaml.safe_load((tmp_path / "config" / "lumines.yaml").read_text())
    assert written["post_deploy"]["phases"][0]["duration"] == "4s"
    for pid, app in settings.catalog.products.items():
        assert all(p.duration == timedelta(seconds=4) for p in app.post_deploy.phases), pid
        for item in [*app.items, *app.post_deploy.items]:
            if item.check is None:
                continue
            params = item.check.model_dump()
            urls = [str(v) for k, v in params.items() if k in ("url", "api_url") and v]
            assert all(url.startswith(WIRING.target_url) for url in urls), (pid, item.id, urls)
