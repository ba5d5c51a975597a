"""The demo's configuration: a directory of two products, as a company with several
services would write it. `_base.yaml` is the shipped app.yaml's checklist, roles and
phases; `lumines.yaml` extends it whole, in #releases; `payments.yaml`, in
#payments-releases, extends it and drops most of its sections. Each names the demo
people in its roles (Payments has a Security Lead of its own) and makes time short enough
to watch (phases of minutes, or of seconds with `--fast`); `_settings.yaml` holds what is
the bot's. Every check points at the demo target. Nothing is read from the environment:
the demo is the same wherever it runs."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from bot.catalog import SETTINGS
from bot.config import ConfigError, Settings, load_settings
from bot.demo.people import CHANNELS, Channel, members

BASE = "_base.yaml"
# Each phase of app.yaml, in order: (duration, every).
PHASES = (("1m", "10s"), ("2m", "20s"), ("3m", "30s"))
FAST_PHASES = (("4s", "1s"), ("4s", "1s"), ("4s", "1s"))
# What each product is besides the base: its title (None: the shipped one) and the base's
# sections it keeps (None: all of them).
TITLES = {"lumines": None, "payments": "Payments"}
KEEPS: dict[str, tuple[str, ...] | None] = {
    "lumines": None,
    "payments": ("application", "security", "final_validation"),
}
HEADERS = {
    BASE: "Shared by both products (not a product: its name starts with _). The shipped\n"
    "app.yaml's checklist, roles and post-deploy phases, without what is a product's own\n"
    "(product, channel) or the bot's (checks, slack, schedules.tick: see _settings.yaml).",
    SETTINGS: "The bot's own settings, shared by every product: the demo's fast pacing.",
    "lumines.yaml": "Product `lumines` (the file name), in #releases: all of _base.yaml's\n"
    "checklist; the demo people in its roles, phases short enough to watch.",
    "payments.yaml": "Product `payments`, in #payments-releases: _base.yaml's checklist\n"
    "with most sections removed, and a Security Lead of its own.",
}


@dataclass(frozen=True)
class Wiring:
    """Where the demo's parts listen, and the secrets the bot and the page share."""

    slack_api_url: str
    target_url: str
    database_url: str
    signing_secret: str
    bot_token: str
    api_token: str


def shipped_config() -> Path:
    """app.yaml beside the package (a source checkout, `pip install -e .`), else here."""
    beside = Path(__file__).resolve().parents[2] / "app.yaml"
    if beside.is_file():
        return beside
    here = Path("app.yaml")
    if here.is_file():
        return here
    raise ConfigError([f"app.yaml: not found beside the package ({beside}) nor here"])


def base_config(shipped: dict[str, Any]) -> dict[str, Any]:
    """The shipped config without what a product file may not say, nor its own."""
    base = {k: v for k, v in shipped.items() if k not in ("product", "channel", "checks", "slack")}
    if "schedules" in base:
        base["schedules"] = {k: v for k, v in base["schedules"].items() if k != "tick"}
    return base


def bot_config(shipped: dict[str, Any], fast: bool = False) -> dict[str, Any]:
    """_settings.yaml: the shipped checks' settings, Slack's pacing and the tick, fast."""
    return {
        "checks": dict(shipped.get("checks") or {}),
        "slack": {"card_update_interval": "300ms", "post_interval": "100ms"},
        "schedules": {"tick": "250ms" if fast else "2s"},
    }


def product_config(shipped: dict[str, Any], where: Channel, fast: bool = False) -> dict[str, Any]:
    """One product's file: it extends the base, in its channel, with the demo's people in
    its roles and short times; it drops the base's sections it does not keep."""
    pid = where.product
    config: dict[str, Any] = {
        "extends": BASE,
        "product": TITLES.get(pid) or shipped["product"],
        "channel": where.id,
    }
    # A role of the same id replaces the inherited one: all of it is given again.
    config["roles"] = {
        role_id: {**role, "members": members(pid, role_id), "usergroups": []}
        for role_id, role in shipped["roles"].items()
    }
    keeps = KEEPS.get(pid)
    if keeps is not None:
        config["sections"] = [
            {"id": s["id"], "remove": True} for s in shipped["sections"] if s["id"] not in keeps
        ]
    post_deploy = dict(shipped.get("post_deploy") or {})
    timing = FAST_PHASES if fast else PHASES
    phases = []
    for index, phase in enumerate(post_deploy.get("phases") or []):
        duration, every = timing[min(index, len(timing) - 1)]
        phases.append({**phase, "duration": duration, "every": every})
    post_deploy["phases"] = phases
    post_deploy["grace"] = "1m"
    config["post_deploy"] = post_deploy
    schedules = {k: v for k, v in (shipped.get("schedules") or {}).items() if k != "tick"}
    schedules.update(
        {
            "recheck": "* * * * *",  # every minute: a broken part shows without a click
            "reminder": None,
            "window_lead": "1m",
        }
    )
    config["schedules"] = schedules
    return config


def demo_config(shipped: dict[str, Any], fast: bool = False) -> dict[str, dict[str, Any]]:
    """The demo's config directory: each file's name and what it holds."""
    files = {BASE: base_config(shipped), SETTINGS: bot_config(shipped, fast)}
    for where in CHANNELS:
        files[f"{where.product}.yaml"] = product_config(shipped, where, fast)
    return files


def demo_environment(wiring: Wiring, token_file: Path) -> dict[str, str]:
    """Every variable the shipped app.yaml reads, pointed at the demo's own parts."""
    target = wiring.target_url
    return {
        "SLACK_BOT_TOKEN": wiring.bot_token,
        "SLACK_SIGNING_SECRET": wiring.signing_secret,
        "SLACK_API_URL": wiring.slack_api_url,
        "DATABASE_URL": wiring.database_url,
        "READINESS_API_TOKEN": wiring.api_token,
        "TARGET_URL": target,
        "PROMETHEUS_URL": target,
        "ALERTMANAGER_URL": target,
        "GRAFANA_URL": f"{target}/grafana",
        "GITHUB_API_URL": f"{target}/github",
        "KUBERNETES_API_URL": f"{target}/k8s",
        "KUBERNETES_TOKEN_FILE": str(token_file),
    }


def write_config(directory: Path, shipped: dict[str, Any], fast: bool = False) -> Path:
    """Write the demo's config directory (made if need be); returns it."""
    directory.mkdir(parents=True, exist_ok=True)
    for name, content in demo_config(shipped, fast).items():
        comment = "".join(f"# {line}\n" for line in HEADERS[name].splitlines())
        text = yaml.safe_dump(content, sort_keys=False, allow_unicode=True, width=100)
        (directory / name).write_text(comment + text, encoding="utf-8")
    return directory


def demo_settings(wiring: Wiring, workdir: Path, fast: bool = False) -> Settings:
    """Write the demo's config directory and token file into `workdir`; load them as
    `serve` would."""
    shipped = yaml.safe_load(shipped_config().read_text(encoding="utf-8"))
    directory = write_config(workdir / "config", shipped, fast)
    token_file = workdir / "k8s-token"
    token_file.write_text("demo-token\n", encoding="utf-8")
    return load_settings(directory, demo_environment(wiring, token_file))
