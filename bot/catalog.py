"""The config as a Catalog of products: one app.yaml (one product, today's format), or a
directory where each `NAME.yaml` is the product NAME and `_*.yaml` files are not products
(`_settings.yaml` holds the bot-wide settings; others are there to be extended).

A product file may say `extends: FILE` (relative to it): it inherits each top-level key
it does not set; `sections` merge by section id and `roles` by role id (the same id
replaces, `{id: x, remove: true}` / `ROLE: {remove: true}` drops). Every problem names
the file it is in, `file: path.to.field: what is wrong`, all at once.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

from pydantic import Field, ValidationError

from bot.configfile import (
    ConfigError,
    check_app,
    parse_app_config,
    parse_yaml,
    pydantic_problems,
    read_text,
    substitute,
)
from bot.domain.checklist import AppConfig, ChecksSettings, SlackSettings, Strict
from bot.domain.products import BotSettings, Catalog
from checks.durations import Duration
from checks.registry import Registry

PRODUCT_ID = re.compile(r"^[a-z0-9][a-z0-9_-]{0,39}$")
SETTINGS = "_settings.yaml"
_WHERE_SETTINGS = f"a bot-wide setting: it belongs in {SETTINGS}, not in a product's file"


class _BotSchedules(Strict):
    tick: Duration = timedelta(seconds=15)


class _SettingsFile(Strict):
    checks: ChecksSettings = Field(default_factory=ChecksSettings)
    slack: SlackSettings = Field(default_factory=SlackSettings)
    schedules: _BotSchedules = Field(default_factory=_BotSchedules)


def load_catalog(path: Path, env: Mapping[str, str], registry: Registry) -> Catalog:
    """The products PATH holds (a file, or a directory of them); raises ConfigError."""
    if path.is_dir():
        return _Directory(path, env, registry).load()
    source = str(path)
    return Catalog.single(parse_app_config(read_text(path, source), env, registry, source), source)


@dataclass
class _Merged:
    """A product's settings gathered along its `extends` chain, and where each came from."""

    raw: dict[str, Any]
    keys: dict[str, str]  # top-level key -> the file that set it
    sections: list[tuple[str, int]]  # merged section -> (file, its index there)
    roles: dict[str, str] = field(default_factory=dict)  # role id -> file
    removed: dict[str, str] = field(default_factory=dict)  # role id -> the file dropping it


class _Directory:
    def __init__(self, root: Path, env: Mapping[str, str], registry: Registry) -> None:
        self.root, self.env, self.registry = root, env, registry
        self.problems: list[str] = []
        # A problem of the merged settings -> the products that found it (an extended
        # file's problem is said once, naming each product it breaks).
        self.found: dict[tuple[str, str], list[str]] = {}

    def load(self) -> Catalog:
        files = sorted(p for p in self.root.glob("*.yaml") if p.is_file())
        products = [p for p in files if not p.name.startswith("_")]
        if not products:
            self.problems.append(
                f"{self.root}: (directory): no product files: each product is a NAME.yaml "
                "(files starting with _ are not products)"
            )
        bot = self._settings(self.root / SETTINGS)
        found: dict[str, AppConfig] = {}
        sources: dict[str, str] = {}
        for file in products:
            pid = file.stem
            if not PRODUCT_ID.match(pid):
                self.problems.append(
                    f"{file}: (file name): {pid!r} is not a product id: lower-case letters, "
                    "digits, _ and - (at most 40), starting with a letter or digit"
                )
                continue
            app = self._product(file)
            if app is not None:
                found[pid], sources[pid] = app, str(file)
        self._claims(found, sources)
        for (where, problem), finders in self.found.items():
            others = [p for p in finders if p != where]
            verb = "extends" if len(others) == 1 else "extend"
            suffix = f" (in {' and '.join(others)}, which {verb} it)" if others else ""
            self.problems.append(f"{where}: {problem}{suffix}")
        if self.problems:
            raise ConfigError(list(dict.fromkeys(self.problems)))
        return Catalog(found, bot, sources, directory=True)

    def _settings(self, file: Path) -> BotSettings:
        if not file.is_file():
            return BotSettings()
        problems: list[str] = []
        raw = substitute(parse_yaml(read_text(file, str(file)), str(file)), self.env, problems)
        try:
            parsed = _SettingsFile.model_validate(raw)
        except ValidationError as exc:
            problems.extend(pydantic_problems(exc))
            parsed = _SettingsFile()
        self.problems.extend(f"{file}: {p}" for p in problems)
        return BotSettings(parsed.checks, parsed.slack, parsed.schedules.tick)

    def _product(self, file: Path) -> AppConfig | None:
        try:
            merged = self._chain(file, ())
        except ConfigError as exc:
            self.problems.extend(exc.problems)
            return None
        if merged is None:
            return None
        problems: list[str] = []
        raw = substitute(merged.raw, self.env, problems)  # ${VAR} said where it is written
        app = check_app(raw, self.registry, problems)
        for problem in _orphaned(problems, merged, raw):
            self.found.setdefault(_located(problem, merged, str(file)), []).append(str(file))
        return app

    def _chain(self, file: Path, chain: tuple[Path, ...]) -> _Merged | None:
        source = str(file)
        seen = [c.resolve() for c in chain]
        if file.resolve() in seen:  # said in the file whose `extends` closes the loop
            loop = [*chain[seen.index(file.resolve()) :], file]
            cycle = " -> ".join(str(c) for c in loop)
            self.problems.append(f"{loop[-2]}: extends: a cycle: {cycle}")
            return None
        raw = parse_yaml(read_text(file, source), source)
        self._bot_wide(raw, source)
        parent = raw.pop("extends", None)
        if parent is None:
            return self._overlay(_Merged({}, {}, []), raw, source)
        if not isinstance(parent, str) or not parent:
            self.problems.append(f"{source}: extends: give a file name, relative to this file")
            return None
        base_file = file.parent / parent
        if not base_file.is_file():
            self.problems.append(f"{source}: extends: there is no file {str(base_file)!r}")
            return None
        base = self._chain(base_file, (*chain, file))
        return None if base is None else self._overlay(base, raw, source)

    def _bot_wide(self, raw: dict[str, Any], source: str) -> None:
        """A product's file (or what it extends) may not hold the bot's settings."""
        for key in ("checks", "slack"):
            if key in raw:
                value = raw.pop(key)
                names = [f"{key}.{k}" for k in value] if isinstance(value, Mapping) else [key]
                self.problems.extend(f"{source}: {name}: {_WHERE_SETTINGS}" for name in names)
        schedules = raw.get("schedules")
        if isinstance(schedules, Mapping) and "tick" in schedules:
            raw["schedules"] = {k: v for k, v in schedules.items() if k != "tick"}
            self.problems.append(f"{source}: schedules.tick: {_WHERE_SETTINGS}")

    def _overlay(self, base: _Merged, raw: Mapping[str, Any], source: str) -> _Merged:
        """RAW (SOURCE's own settings) over what it extends."""
        merged = _Merged(dict(base.raw), dict(base.keys), list(base.sections), dict(base.roles))
        for key, value in raw.items():
            if key == "sections" and isinstance(value, list):
                self._sections(merged, value, source)
            elif key == "roles" and isinstance(value, Mapping):
                self._roles(merged, value, source)
            else:
                merged.raw[key] = value
                merged.keys[key] = source
        return merged

    def _sections(self, merged: _Merged, sections: list[Any], source: str) -> None:
        result = list(merged.raw.get("sections") or [])
        seen: set[str] = set()
        for i, section in enumerate(sections):
            sid = section.get("id") if isinstance(section, Mapping) else None
            if isinstance(sid, str) and sid in seen:
                self.problems.append(f"{source}: sections.{i}.id: duplicate id {sid!r}")
                continue
            if isinstance(sid, str):
                seen.add(sid)
            at = next(
                (j for j, s in enumerate(result) if isinstance(s, Mapping) and s.get("id") == sid),
                None,
            )
            if isinstance(section, Mapping) and section.get("remove") is True:
                if set(section) - {"id", "remove"}:
                    self.problems.append(
                        f"{source}: sections.{i}: a removal says only `id` and `remove: true`"
                    )
                elif at is None:
                    self.problems.append(
                        f"{source}: sections.{i}.id: no inherited section {sid!r} to remove"
                    )
                else:
                    del result[at], merged.sections[at]
            elif at is None:
                result.append(section)
                merged.sections.append((source, i))
            else:
                result[at], merged.sections[at] = section, (source, i)
        merged.raw["sections"] = result
        merged.keys["sections"] = source

    def _roles(self, merged: _Merged, roles: Mapping[str, Any], source: str) -> None:
        result = dict(merged.raw.get("roles") or {})
        for role_id, role in roles.items():
            if isinstance(role, Mapping) and role.get("remove") is True:
                if set(role) != {"remove"}:
                    self.problems.append(
                        f"{source}: roles.{role_id}: a removal says only `remove: true`"
                    )
                elif role_id not in result:
                    self.problems.append(
                        f"{source}: roles.{role_id}: no inherited role {role_id!r} to remove"
                    )
                else:
                    del result[role_id], merged.roles[role_id]
                    merged.removed[role_id] = source
                continue
            result[role_id], merged.roles[role_id] = role, source
        merged.raw["roles"] = result
        merged.keys["roles"] = source

    def _claims(self, found: Mapping[str, AppConfig], sources: Mapping[str, str]) -> None:
        """A channel routes to one product, and a repository's environment is gated by one:
        two claiming it is said in the second's file."""
        owner: dict[str, str] = {}
        for pid, app in found.items():
            for channel in app.homes:
                if channel in owner:
                    where = "channel" if channel == app.channel else "channels"
                    self.problems.append(
                        f"{sources[pid]}: {where}: {channel} is also the channel of "
                        f"{sources[owner[channel]]}; a channel belongs to one product"
                    )
                else:
                    owner[channel] = pid
        gated: dict[tuple[str, str], str] = {}
        for pid, app in found.items():
            github = app.github
            pairs = (
                [(r, e) for r in github.repositories for e in github.environments] if github else []
            )
            for repository, environment in pairs:
                other = gated.setdefault((repository, environment), pid)
                if other != pid:
                    self.problems.append(
                        f"{sources[pid]}: github: {repository} → {environment} is also gated by "
                        f"{sources[other]}; a waiting job belongs to one product"
                    )


def _orphaned(problems: list[str], merged: _Merged, raw: Mapping[str, Any]) -> list[str]:
    """PROBLEMS, with the items still owned by a role this product removed said once, at
    the removal, by item id (not once per item, in the file that lists them)."""
    owned: dict[str, list[str]] = {}
    kept: list[str] = []
    for problem in problems:
        where, _, what = problem.partition(": ")
        role = next((r for r in merged.removed if what.startswith(f"no role {r!r}")), None)
        if role is None or not where.endswith(".owner"):
            kept.append(problem)
            continue
        node: Any = raw
        for part in where.split(".")[:-1]:
            node = node[int(part)] if isinstance(node, list) else node.get(part, {})
        owned.setdefault(role, []).append(str(node.get("id", where)))
    for role, items in owned.items():
        kept.append(
            f"roles.{role}: removed, but these items still name it as their owner: "
            f"{', '.join(items)} (give them another owner, or replace their sections)"
        )
    return kept


def _located(problem: str, merged: _Merged, product: str) -> tuple[str, str]:
    """A problem of PRODUCT's merged settings: the file that wrote the field (the
    product's own when it is of the whole), and the problem with the field's path there."""
    where, _, what = problem.partition(": ")
    parts = where.split(".")
    file, path = product, where
    if parts[0] == "sections" and len(parts) > 1 and parts[1].isdigit():
        index = int(parts[1])
        if index < len(merged.sections):
            file, at = merged.sections[index]
            path = ".".join(["sections", str(at), *parts[2:]])
    elif parts[0] == "roles" and len(parts) > 1:
        role = parts[1]
        file = merged.removed.get(role) or merged.roles.get(role, product)
    elif parts[0] in merged.keys and parts[0] not in ("sections", "roles"):
        file = merged.keys[parts[0]]
    return file, f"{path}: {what}"
