"""The environment + the config (one app.yaml, or a directory of products) -> one validated
Settings object.

The checklist's models are the domain's (`bot/domain/checklist.py`); `configfile.py` reads
one file into them, `catalog.py` a directory. Every problem is reported as
`file: path.to.field: what is wrong`, all at once. Nothing else reads os.environ.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from bot.catalog import load_catalog
from bot.configfile import ConfigError, parse_app_config, pydantic_problems, read_text
from bot.domain.checklist import AppConfig
from bot.domain.products import Catalog
from checks.registry import Registry, default_registry

__all__ = [
    "ConfigError",
    "Environment",
    "Settings",
    "load_app_config",
    "load_products",
    "load_settings",
]


class Environment(BaseModel):
    """The environment variables of SPEC 3.1 (field name = variable name, lower case)."""

    model_config = ConfigDict(extra="ignore")

    slack_bot_token: str | None = None
    slack_signing_secret: str | None = None
    slack_app_token: str | None = None
    slack_api_url: str = "https://slack.com/api/"
    database_url: str = "sqlite+aiosqlite:///readiness.db"
    readiness_config: str = "app.yaml"
    readiness_api_token: str | None = None
    readiness_url: str | None = None  # where `readiness gate` finds the bot
    port: int = Field(default=3000, ge=0, le=65535)
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"] = "INFO"
    log_format: Literal["text", "json"] = "text"
    # The GitHub App (a deployment protection rule): all of them, or none.
    github_app_id: str | None = None
    github_app_private_key: str | None = None  # the PEM text, or:
    github_app_private_key_file: str | None = None
    github_webhook_secret: str | None = None
    github_api_url: str = "https://api.github.com"

    @model_validator(mode="after")
    def _github_app_whole(self) -> Environment:
        """The app's id, key and webhook secret come together; a key file must read."""
        if self.github_app_private_key_file and not self.github_app_private_key:
            try:
                key = Path(self.github_app_private_key_file).read_text()
            except OSError as exc:
                raise ValueError(
                    f"GITHUB_APP_PRIVATE_KEY_FILE: cannot read {self.github_app_private_key_file}"
                    f" ({exc.strerror or exc})"
                ) from None
            self.github_app_private_key = key
        given = {
            "GITHUB_APP_ID": self.github_app_id,
            "GITHUB_APP_PRIVATE_KEY": self.github_app_private_key,
            "GITHUB_WEBHOOK_SECRET": self.github_webhook_secret,
        }
        missing = [name for name, value in given.items() if not value]
        if len(missing) < len(given) and missing:
            raise ValueError(f"the GitHub App also needs {', '.join(missing)}")
        if self.github_app_private_key and "PRIVATE KEY" not in self.github_app_private_key:
            raise ValueError("GITHUB_APP_PRIVATE_KEY is not a PEM private key")
        return self

    @property
    def github_app(self) -> bool:
        return bool(self.github_app_id and self.github_webhook_secret)

    @field_validator("log_level", mode="before")
    @classmethod
    def _level_any_case(cls, value: Any) -> Any:
        return value.upper() if isinstance(value, str) else value

    @field_validator("database_url")
    @classmethod
    def _a_database_readiness_speaks(cls, value: str) -> str:
        """One SQLite file through aiosqlite, or PostgreSQL through asyncpg."""
        try:
            driver = make_url(value).drivername
        except ArgumentError:
            driver = None
        if driver == "postgresql":  # the bare scheme most tools print: asyncpg is the driver
            raise ValueError(
                f"{value!r}: give the driver, postgresql+asyncpg://USER:PASSWORD@HOST:PORT/DB"
            )
        if driver not in ("sqlite+aiosqlite", "postgresql+asyncpg"):
            raise ValueError(
                f"{value!r} is not a database URL for Readiness: use sqlite+aiosqlite:///PATH "
                "(e.g. sqlite+aiosqlite:////var/lib/readiness/readiness.db) or "
                "postgresql+asyncpg://USER:PASSWORD@HOST:PORT/DB"
            )
        return value


class Settings(BaseModel):
    model_config = ConfigDict(arbitrary_types_allowed=True)

    env: Environment
    catalog: Catalog
    config_path: Path
    registry: Registry
    environ: dict[str, str] = {}  # what checks may read by name (token_env)

    @property
    def app(self) -> AppConfig:
        """The one product's checklist (a single file, or a directory of one)."""
        only = self.catalog.only
        if only is None:
            raise LookupError("several products are configured: ask the catalog for one")
        return self.catalog.products[only]

    def reloaded(self) -> Settings:
        """The same environment with the config read again (raises ConfigError)."""
        catalog = load_catalog(self.config_path, self.environ, self.registry)
        return self.model_copy(update={"catalog": catalog})


def load_app_config(
    path: str | Path, env: Mapping[str, str] | None = None, registry: Registry | None = None
) -> AppConfig:
    """One product's file (today's single app.yaml); raises ConfigError."""
    source = str(path)
    return parse_app_config(
        read_text(Path(path), source),
        os.environ if env is None else env,
        registry or default_registry(),
        source,
    )


def load_products(path: str | Path, env: Mapping[str, str] | None = None) -> Catalog:
    """The products of a config file or directory; raises ConfigError."""
    return load_catalog(Path(path), os.environ if env is None else env, default_registry())


def load_environment(env: Mapping[str, str] | None = None) -> Environment:
    """SPEC 3.1's variables from the environment; raises ConfigError naming a bad one."""
    env = os.environ if env is None else env
    try:
        return Environment.model_validate(
            {k.lower(): v for k, v in env.items() if k.lower() in Environment.model_fields}
        )
    except ValidationError as exc:
        problems = []
        for problem in pydantic_problems(exc):
            where, said = problem.split(":", 1)
            named = "" if where.startswith("(") else f" {where.upper()}:"  # (top level)
            problems.append(f"environment:{named}{said}")
        raise ConfigError(problems) from None


def load_settings(
    config_path: str | Path | None = None, env: Mapping[str, str] | None = None
) -> Settings:
    """The environment and app.yaml, validated together; raises ConfigError."""
    env = dict(os.environ if env is None else env)
    environment = load_environment(env)
    path = Path(config_path or environment.readiness_config)
    registry = default_registry()
    catalog = load_catalog(path, env, registry)
    return Settings(
        env=environment, catalog=catalog, config_path=path, registry=registry, environ=env
    )
