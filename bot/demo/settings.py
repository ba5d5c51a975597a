"""The demo's configuration: the shipped app.yaml, pointed at the LUMINES target, with the
demo people in its roles and time made short enough to watch (phases of minutes, or of
seconds with `--fast`). Nothing is read from the environment: the demo is the same
wherever it runs."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from bot.config import ConfigError, Settings, load_settings
from bot.demo.people import CHANNEL, members

# Each phase of app.yaml, in order: (duration, every).
PHASES = (("1m", "10s"), ("2m", "20s"), ("3m", "30s"))
FAST_PHASES = (("4s", "1s"), ("4s", "1s"), ("4s", "1s"))


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


def demo_config(shipped: dict[str, Any], fast: bool = False) -> dict[str, Any]:
    """The shipped config with the demo's people, channel and short times."""
    config = dict(shipped)
    config["channel"] = CHANNEL
    roles = {}
    for role_id, role in shipped["roles"].items():
        roles[role_id] = {**role, "members": members(role_id), "usergroups": []}
    config["roles"] = roles
    post_deploy = dict(shipped.get("post_deploy") or {})
    timing = FAST_PHASES if fast else PHASES
    phases = []
    for index, phase in enumerate(post_deploy.get("phases") or []):
        duration, every = timing[min(index, len(timing) - 1)]
        phases.append({**phase, "duration": duration, "every": every})
    post_deploy["phases"] = phases
    post_deploy["grace"] = "1m"
    config["post_deploy"] = post_deploy
    schedules = dict(shipped.get("schedules") or {})
    schedules.update(
        {
            "recheck": "* * * * *",  # every minute: a broken part shows without a click
            "reminder": None,
            "window_lead": "1m",
            "tick": "250ms" if fast else "2s",
        }
    )
    config["schedules"] = schedules
    config["slack"] = {"card_update_interval": "300ms", "post_interval": "100ms"}
    return config


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


def demo_settings(wiring: Wiring, workdir: Path, fast: bool = False) -> Settings:
    """Write the demo's app.yaml and token file into `workdir`; load them as `serve` would."""
    shipped = yaml.safe_load(shipped_config().read_text(encoding="utf-8"))
    path = workdir / "app.yaml"
    path.write_text(
        "# readiness demo: the shipped app.yaml with the demo's people and short phases\n"
        + yaml.safe_dump(demo_config(shipped, fast), sort_keys=False, allow_unicode=True),
        encoding="utf-8",
    )
    token_file = workdir / "k8s-token"
    token_file.write_text("demo-token\n", encoding="utf-8")
    return load_settings(path, demo_environment(wiring, token_file))
