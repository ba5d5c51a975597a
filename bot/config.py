"""app.yaml + environment -> one validated Settings object.

The checklist's models are the domain's (`bot/domain/checklist.py`); this module reads
the file and the environment into them. Every problem is reported as
`file: path.to.field: what is wrong`, all at once. Nothing else reads os.environ.
"""

from __future__ import annotations

import os
import re
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from bot.domain.checklist import AppConfig
from checks.registry import Registry, UnknownCheckType, default_registry

# ${VAR}, ${VAR:-default}; a default may hold ${OTHER} or ${OTHER:-x} (one level deep).
_VAR = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-((?:[^{}$]|\$(?!\{)|\$\{[^{}]*\})*))?\}")


class ConfigError(Exception):
    """The configuration is unusable; `problems` lists every reason, one line each."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


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

    @field_validator("log_level", mode="before")
    @classmethod
    def _level_any_case(cls, value: Any) -> Any:
        return value.upper() if isinstance(value, str) else value

    @field_validator("database_url")
    @classmethod
    def _sqlite_through_aiosqlite(cls, value: str) -> str:
        """Readiness keeps its state in one SQLite file, through aiosqlite."""
        try:
            driver = make_url(value).drivername
        except ArgumentError:
            driver = None
        if driver != "sqlite+aiosqlite":
            raise ValueError(
                f"{value!r} is not a SQLite URL for Readiness: use sqlite+aiosqlite:///PATH "
                "(e.g. sqlite+aiosqlite:////var/lib/readiness/readiness.db)"
            )
        return value


class Settings(BaseModel):
    model_config = ConfigDict(arbitrary_types_allowed=True)

    env: Environment
    app: AppConfig
    config_path: Path
    registry: Registry
    environ: dict[str, str] = {}  # what checks may read by name (token_env)


# --- loading -------------------------------------------------------------------------------


class _UniqueKeyLoader(yaml.SafeLoader):
    """YAML loader that refuses a key written twice in one mapping (PyYAML keeps the last)."""


def _construct_mapping(loader: _UniqueKeyLoader, node: yaml.MappingNode) -> dict[Any, Any]:
    seen: set[Any] = set()
    for key_node, _ in node.value:
        key = loader.construct_object(key_node)  # type: ignore[no-untyped-call]
        if key in seen:
            raise yaml.constructor.ConstructorError(
                None, None, f"duplicate key {key!r}", key_node.start_mark
            )
        seen.add(key)
    return loader.construct_mapping(node)


_UniqueKeyLoader.add_constructor(
    yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG,
    _construct_mapping,  # type: ignore[arg-type]
)


def _dotted(loc: tuple[Any, ...] | list[Any]) -> str:
    return ".".join(str(part) for part in loc) or "(top level)"


def _substitute(
    node: Any, env: Mapping[str, str], path: tuple[Any, ...], problems: list[str]
) -> Any:
    """Replace ${VAR} and ${VAR:-default} in strings; an unset VAR without default is a problem.
    Values from the environment are used as they are, never expanded again."""
    if isinstance(node, dict):
        return {k: _substitute(v, env, (*path, k), problems) for k, v in node.items()}
    if isinstance(node, list):
        return [_substitute(v, env, (*path, i), problems) for i, v in enumerate(node)]
    if not isinstance(node, str):
        return node

    def replace(match: re.Match[str]) -> str:
        name, default = match.group(1), match.group(2)
        value = env.get(name)
        if value:
            return value
        if default is not None:
            return _VAR.sub(replace, default)
        problems.append(f"{_dotted(path)}: ${{{name}}} is not set in the environment")
        return ""

    return _VAR.sub(replace, node)


def _pydantic_problems(exc: ValidationError, prefix: tuple[Any, ...] = ()) -> Iterator[str]:
    for error in exc.errors(include_url=False):
        loc = (*prefix, *error["loc"])
        message = error["msg"].removeprefix("Value error, ")
        if error["type"] == "extra_forbidden":
            message = "unknown field"
        yield f"{_dotted(loc)}: {message}"


def _cron_problems(app: AppConfig) -> Iterator[str]:
    from apscheduler.triggers.cron import CronTrigger

    for name in ("recheck", "reminder"):
        value = getattr(app.schedules, name)
        if value:
            try:
                CronTrigger.from_crontab(value)
            except ValueError as exc:
                yield f"schedules.{name}: bad cron expression {value!r}: {exc}"


def _semantic_problems(app: AppConfig, registry: Registry) -> list[str]:
    problems: list[str] = list(_cron_problems(app))
    finals = [role_id for role_id, role in app.roles.items() if role.final]
    if not finals:
        problems.append("roles: no role has `final: true` (the final approver)")
    elif len(finals) > 1:
        problems.append(f"roles: only one role may be final, found {', '.join(finals)}")
    for role_id, role in app.roles.items():
        if not role.members and not role.usergroups:
            problems.append(
                f"roles.{role_id}.members: missing member list (give members or usergroups)"
            )
        elif not role.usergroups and len(role.members) < role.min_signers:
            problems.append(
                f"roles.{role_id}.min_signers: needs {role.min_signers} signers "
                f"but the role has {len(role.members)} member(s)"
            )
    for where, ids in (
        ("sections", [s.id for s in app.sections]),
        ("phases", [p.id for p in app.post_deploy.phases]),
    ):
        for dup, n in Counter(ids).items():
            if n > 1:
                problems.append(f"{where}: duplicate id {dup!r} ({n} times)")
    for role_id in app.post_deploy.responders or []:
        if role_id not in app.roles:
            problems.append(
                f"post_deploy.responders: no role {role_id!r} (roles: {', '.join(app.roles)})"
            )
    located = [
        (f"sections.{si}.items.{ii}", item)
        for si, section in enumerate(app.sections)
        for ii, item in enumerate(section.items)
    ] + [(f"post_deploy.items.{ii}", item) for ii, item in enumerate(app.post_deploy.items)]
    counts = Counter(item.id for _, item in located)
    for path, item in located:
        if counts[item.id] > 1:
            problems.append(f"{path}.id: duplicate item id {item.id!r}")
        if item.owner is not None and item.owner not in app.roles:
            problems.append(f"{path}.owner: no role {item.owner!r} (roles: {', '.join(app.roles)})")
        if item.check is not None:
            try:
                item.check = registry.parse(item.check.model_dump())
            except UnknownCheckType as exc:
                problems.append(f"{path}.check.type: {exc}")
            except ValidationError as exc:
                problems.extend(_pydantic_problems(exc, (*path.split("."), "check")))
    return problems


def parse_app_config(
    text: str, env: Mapping[str, str], registry: Registry, source: str = "app.yaml"
) -> AppConfig:
    """Validate app.yaml's text; raises ConfigError with every problem prefixed by `source`."""
    try:
        raw = yaml.load(text, Loader=_UniqueKeyLoader)  # noqa: S506 - a SafeLoader subclass
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}" if mark is not None else "(top level)"
        problem = getattr(exc, "problem", None) or str(exc)
        raise ConfigError([f"{source}: {where}: not valid YAML: {problem}"]) from None
    if not isinstance(raw, dict):
        raise ConfigError([f"{source}: (top level): expected a mapping of settings"])
    problems: list[str] = []
    raw = _substitute(raw, env, (), problems)
    unset = {p.split(": ", 1)[0] for p in problems}

    def told(found: Iterable[str]) -> list[str]:
        """A field with an unset ${VAR} is reported for that alone, not again as invalid."""
        return [p for p in found if p.split(": ", 1)[0] not in unset]

    try:
        app = AppConfig.model_validate(raw)
    except ValidationError as exc:
        problems.extend(told(_pydantic_problems(exc)))
        raise ConfigError([f"{source}: {p}" for p in problems]) from None
    problems.extend(told(_semantic_problems(app, registry)))
    if problems:
        raise ConfigError([f"{source}: {p}" for p in problems])
    return app


def load_app_config(
    path: str | Path, env: Mapping[str, str] | None = None, registry: Registry | None = None
) -> AppConfig:
    source = str(path)
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError([f"{source}: (file): cannot read: {exc.strerror or exc}"]) from None
    return parse_app_config(
        text, os.environ if env is None else env, registry or default_registry(), source
    )


def load_environment(env: Mapping[str, str] | None = None) -> Environment:
    """SPEC 3.1's variables from the environment; raises ConfigError naming a bad one."""
    env = os.environ if env is None else env
    try:
        return Environment.model_validate(
            {k.lower(): v for k, v in env.items() if k.lower() in Environment.model_fields}
        )
    except ValidationError as exc:
        problems = [
            f"environment: {p.upper().split(':')[0]}:{p.split(':', 1)[1]}"
            for p in _pydantic_problems(exc)
        ]
        raise ConfigError(problems) from None


def load_settings(
    config_path: str | Path | None = None, env: Mapping[str, str] | None = None
) -> Settings:
    """The environment and app.yaml, validated together; raises ConfigError."""
    env = dict(os.environ if env is None else env)
    environment = load_environment(env)
    path = Path(config_path or environment.readiness_config)
    registry = default_registry()
    app = load_app_config(path, env, registry)
    return Settings(env=environment, app=app, config_path=path, registry=registry, environ=env)
