"""One config file's YAML -> a validated AppConfig, every problem reported at once as
`path.to.field: what is wrong` (callers prefix the file). Reads no environment: the
variables `${VAR}` may name are given."""

from __future__ import annotations

import functools
import re
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, TypeAdapter, ValidationError

from bot.domain.checklist import AppConfig, Item, PostDeploy, Role, Schedules
from checks.base import CheckParams
from checks.registry import Registry, UnknownCheckType

# ${VAR}, ${VAR:-default}; a default may hold ${OTHER} or ${OTHER:-x} (one level deep).
_VAR = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-((?:[^{}$]|\$(?!\{)|\$\{[^{}]*\})*))?\}")


class ConfigError(Exception):
    """The configuration is unusable; `problems` lists every reason, one line each."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


# --- reading -------------------------------------------------------------------------------


class _UniqueKeyLoader(yaml.SafeLoader):
    """YAML loader that refuses a key written twice in one mapping (PyYAML keeps the last)."""


# libyaml's parser, where PyYAML was built with it, reads the shipped app.yaml in ~10 ms;
# PyYAML's own took ~80 ms, most of what loading the config at start took.
try:
    from yaml import CSafeLoader as _Parser
except ImportError:  # pragma: no cover - PyYAML built without libyaml
    from yaml import SafeLoader as _Parser  # type: ignore[assignment]


class _FastUniqueKeyLoader(_Parser):
    """The same, through libyaml where there is one."""


def _construct_mapping(loader: yaml.SafeLoader, node: yaml.MappingNode) -> dict[Any, Any]:
    seen: set[Any] = set()
    for key_node, _ in node.value:
        key = loader.construct_object(key_node)  # type: ignore[no-untyped-call]
        if key in seen:
            raise yaml.constructor.ConstructorError(
                None, None, f"duplicate key {key!r}", key_node.start_mark
            )
        seen.add(key)
    return loader.construct_mapping(node)


for _loader in (_UniqueKeyLoader, _FastUniqueKeyLoader):
    _loader.add_constructor(
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


def pydantic_problems(exc: ValidationError, prefix: tuple[Any, ...] = ()) -> Iterator[str]:
    for error in exc.errors(include_url=False):
        loc = (*prefix, *error["loc"])
        message = error["msg"].removeprefix("Value error, ")
        if error["type"] == "extra_forbidden":
            message = "unknown field"
        yield f"{_dotted(loc)}: {message}"


# --- the checks that need the whole file ----------------------------------------------------
#
# They read the raw mapping, field by field, so they run whether or not the file validated:
# a field that fails its own validation is unknown here (its problem is reported already),
# and a check that needs an unknown field is skipped rather than guessed.

_UNKNOWN: Any = object()


@functools.cache
def _adapter(model: type[BaseModel], name: str) -> TypeAdapter[Any]:
    return TypeAdapter(model.model_fields[name].rebuild_annotation())


def _read(model: type[BaseModel], raw: Any, name: str) -> Any:
    """RAW's field NAME as MODEL validates it (its default when absent); _UNKNOWN when RAW
    is not a mapping, or the value is invalid or missing."""
    if not isinstance(raw, Mapping):
        return _UNKNOWN
    if name not in raw:
        info = model.model_fields[name]
        return _UNKNOWN if info.is_required() else info.get_default(call_default_factory=True)
    try:
        return _adapter(model, name).validate_python(raw[name])
    except ValidationError:
        return _UNKNOWN


def _list(raw: Any, *keys: str) -> list[Any]:
    """RAW[keys...] when it is a list, else [] (its problem, if any, is reported already)."""
    for key in keys:
        raw = raw.get(key) if isinstance(raw, Mapping) else None
    return raw if isinstance(raw, list) else []


def _raw_items(raw: Mapping[str, Any]) -> Iterator[tuple[str, Any]]:
    """Every item of the file with where it is: the checklist's, then the post-deploy ones."""
    for si, section in enumerate(_list(raw, "sections")):
        for ii, item in enumerate(_list(section, "items")):
            yield f"sections.{si}.items.{ii}", item
    for ii, item in enumerate(_list(raw, "post_deploy", "items")):
        yield f"post_deploy.items.{ii}", item


def _cron_problems(raw: Mapping[str, Any]) -> Iterator[str]:
    from apscheduler.triggers.cron import CronTrigger

    for name in ("recheck", "reminder"):
        value = _read(Schedules, raw.get("schedules", {}), name)
        if isinstance(value, str) and value:
            try:
                CronTrigger.from_crontab(value)
            except ValueError as exc:
                yield f"schedules.{name}: bad cron expression {value!r}: {exc}"


def _role_problems(roles: Mapping[str, Any]) -> Iterator[str]:
    finals = [role_id for role_id, role in roles.items() if _read(Role, role, "final") is True]
    if len(finals) > 1:
        yield f"roles: only one role may be final, found {', '.join(finals)}"
    elif not finals and all(_read(Role, role, "final") is not _UNKNOWN for role in roles.values()):
        yield "roles: no role has `final: true` (the final approver)"
    for role_id, role in roles.items():
        members, groups = _read(Role, role, "members"), _read(Role, role, "usergroups")
        if members is _UNKNOWN or groups is _UNKNOWN:
            continue
        min_signers = _read(Role, role, "min_signers")
        if not members and not groups:
            yield f"roles.{role_id}.members: missing member list (give members or usergroups)"
        elif not groups and min_signers is not _UNKNOWN and len(members) < min_signers:
            yield (
                f"roles.{role_id}.min_signers: needs {min_signers} signers "
                f"but the role has {len(members)} member(s)"
            )


def _semantic_problems(
    raw: Mapping[str, Any], registry: Registry
) -> tuple[list[str], dict[str, CheckParams]]:
    """What needs the whole file (a final role, unique ids, known roles, each check's own
    parameters); and each check that validated, by its item's path."""
    problems: list[str] = list(_cron_problems(raw))
    roles = raw.get("roles")
    if isinstance(roles, Mapping):
        problems.extend(_role_problems(roles))
    known = f" (roles: {', '.join(map(str, roles))})" if isinstance(roles, Mapping) else ""

    def refers(path: str, role_id: Any) -> None:
        if isinstance(roles, Mapping) and isinstance(role_id, str) and role_id not in roles:
            problems.append(f"{path}: no role {role_id!r}{known}")

    for where, parts in (
        ("sections", _list(raw, "sections")),
        ("phases", _list(raw, "post_deploy", "phases")),
    ):
        ids = [part.get("id") for part in parts if isinstance(part, Mapping)]
        for dup, n in Counter(i for i in ids if isinstance(i, str)).items():
            if n > 1:
                problems.append(f"{where}: duplicate id {dup!r} ({n} times)")
    responders = _read(PostDeploy, raw.get("post_deploy", {}), "responders")
    for role_id in responders if isinstance(responders, list) else []:
        refers("post_deploy.responders", role_id)
    located = [(path, item) for path, item in _raw_items(raw) if isinstance(item, Mapping)]
    item_ids = {path: _read(Item, item, "id") for path, item in located}
    counts = Counter(i for i in item_ids.values() if isinstance(i, str))
    checks: dict[str, CheckParams] = {}
    for path, item in located:
        if counts[item_ids[path]] > 1:
            problems.append(f"{path}.id: duplicate item id {item_ids[path]!r}")
        refers(f"{path}.owner", _read(Item, item, "owner"))
        check = item.get("check")
        if isinstance(check, Mapping):
            try:
                checks[path] = registry.parse(check)
            except UnknownCheckType as exc:
                problems.append(f"{path}.check.type: {exc}")
            except ValidationError as exc:
                problems.extend(pydantic_problems(exc, (*path.split("."), "check")))
    return problems, checks


def _located(app: AppConfig) -> Iterator[tuple[str, Item]]:
    """The validated file's items, each named as `_raw_items` names it."""
    for si, section in enumerate(app.sections):
        for ii, item in enumerate(section.items):
            yield f"sections.{si}.items.{ii}", item
    for ii, item in enumerate(app.post_deploy.items):
        yield f"post_deploy.items.{ii}", item


def read_text(path: Path, source: str) -> str:
    """A config file's text; raises ConfigError naming SOURCE."""
    try:
        return path.read_text(encoding="utf-8")
    except OSError as exc:
        why = exc.strerror or str(exc)
        hint = " (READINESS_CONFIG or --config names the config file or directory)"
        raise ConfigError([f"{source}: (file): cannot read: {why}{hint}"]) from None


def _load(text: str) -> Any:
    """TEXT read by libyaml; what it refuses is read again by PyYAML's own parser, whose
    messages say more ("found character '\\t'", not "found character")."""
    try:
        return yaml.load(text, Loader=_FastUniqueKeyLoader)  # noqa: S506 - a safe loader
    except yaml.YAMLError:
        return yaml.load(text, Loader=_UniqueKeyLoader)  # noqa: S506 - a SafeLoader subclass


def parse_yaml(text: str, source: str) -> dict[str, Any]:
    try:
        raw = _load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}" if mark is not None else "(top level)"
        problem = getattr(exc, "problem", None) or str(exc)
        raise ConfigError([f"{source}: {where}: not valid YAML: {problem}"]) from None
    if not isinstance(raw, dict):
        raise ConfigError([f"{source}: (top level): expected a mapping of settings"])
    return raw


def substitute(raw: dict[str, Any], env: Mapping[str, str], problems: list[str]) -> Any:
    """RAW with ${VAR} replaced; each unset variable appended to PROBLEMS."""
    return _substitute(raw, env, (), problems)


def field_of(problem: str) -> str:
    return problem.split(": ", 1)[0]


def check_app(raw: Mapping[str, Any], registry: Registry, problems: list[str]) -> AppConfig | None:
    """RAW validated as one product; its problems (unprefixed) appended to PROBLEMS, which
    may hold the file's ${VAR} problems already. None when there is any."""

    def told(found: Iterable[str]) -> list[str]:
        """A field is reported once: an unset ${VAR} for that alone, not again as invalid;
        a field invalid on its own, not again by the checks of the whole file."""
        said = {field_of(p) for p in problems}
        return [p for p in found if field_of(p) not in said]

    app: AppConfig | None = None
    try:
        app = AppConfig.model_validate(raw)
    except ValidationError as exc:
        problems.extend(told(pydantic_problems(exc)))
    whole, checks = _semantic_problems(raw, registry)
    problems.extend(told(whole))
    if problems or app is None:
        return None
    for path, item in _located(app):
        if item.check is not None:
            item.check = checks[path]
    return app


def parse_app_config(
    text: str, env: Mapping[str, str], registry: Registry, source: str = "app.yaml"
) -> AppConfig:
    """Validate app.yaml's text; raises ConfigError with every problem prefixed by `source`."""
    problems: list[str] = []
    raw = substitute(parse_yaml(text, source), env, problems)
    app = check_app(raw, registry, problems)
    if app is None:
        raise ConfigError([f"{source}: {p}" for p in problems])
    return app
