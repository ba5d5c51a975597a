"""Rows as domain values: what the repositories return."""

from __future__ import annotations

from dataclasses import fields
from typing import Any, TypeVar

from bot.domain.model import Release, ReleaseState, Signature
from bot.domain.monitoring import Breach

T = TypeVar("T")


def _value(kind: type[T], row: Any, **converted: Any) -> T:
    """KIND from the row's columns of the same names (CONVERTED: those that need it); ROW
    is a model or a plain row of its columns."""
    names = [f.name for f in fields(kind)]  # type: ignore[arg-type]
    return kind(
        **{name: getattr(row, name) for name in names if name not in converted}, **converted
    )


def release(row: Any) -> Release:
    return _value(
        Release, row, state=ReleaseState(row.state), deploy_team=tuple(row.deploy_team or ())
    )


def signature(row: Any) -> Signature:
    return _value(Signature, row, attestations=tuple(row.attestations))


def breach(row: Any) -> Breach:
    return _value(Breach, row)


def link(values: dict[str, Any] | None) -> str | None:
    """The CI run a pushed result points to, if it gave one."""
    url = (values or {}).get("url")
    return url if isinstance(url, str) and url.startswith(("https://", "http://")) else None
