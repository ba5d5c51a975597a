"""Check types by name: the built-in ones and those installed as `readiness.checks` plugins."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from importlib.metadata import entry_points
from typing import Any

from pydantic import ValidationError

from checks import (
    alertmanager,
    command,
    coverage,
    document,
    github_actions,
    headers,
    http,
    kubernetes,
    latency,
    prometheus,
    tcp,
    tls,
)
from checks.base import CheckParams, CheckType

BUILTIN: tuple[CheckType[Any], ...] = (
    http.CHECK,
    headers.CHECK,
    latency.CHECK,
    prometheus.CHECK,
    alertmanager.CHECK,
    tcp.CHECK,
    tls.CHECK,
    github_actions.CHECK,
    coverage.CHECK,
    document.CHECK,
    kubernetes.CHECK,
    command.CHECK,
)
ENTRY_POINT_GROUP = "readiness.checks"


class UnknownCheckType(ValueError):
    pass


class Registry:
    def __init__(self, types: Iterable[CheckType[Any]]) -> None:
        self._types: dict[str, CheckType[Any]] = {t.name: t for t in types}

    @property
    def names(self) -> list[str]:
        return sorted(self._types)

    def get(self, name: str) -> CheckType[Any]:
        try:
            return self._types[name]
        except KeyError:
            known = ", ".join(self.names)
            raise UnknownCheckType(f"unknown check type {name!r} (known: {known})") from None

    def parse(self, raw: Mapping[str, Any]) -> CheckParams:
        """Validate a check's parameters with its type's model.

        Raises UnknownCheckType, or pydantic's ValidationError naming the bad field.
        """
        check_type = self.get(str(raw.get("type", "")))
        return check_type.params.model_validate(dict(raw))


def default_registry() -> Registry:
    """Built-in check types plus any installed under the `readiness.checks` entry point."""
    types = list(BUILTIN)
    for ep in entry_points(group=ENTRY_POINT_GROUP):
        loaded = ep.load()
        if not isinstance(loaded, CheckType):
            raise TypeError(f"entry point {ep.name!r} ({ep.value}) is not a checks.CheckType")
        types.append(loaded)
    return Registry(types)


__all__ = ["Registry", "UnknownCheckType", "ValidationError", "default_registry"]
