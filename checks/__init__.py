"""Automated checks: one module per check type, a registry, and the runner.

This package knows nothing of Slack or the database. Its names load on first use, so
importing `checks.base` (what a checklist's items hold) loads no HTTP client.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from checks.base import CheckContext, CheckParams, CheckType, Outcome, Status
    from checks.registry import Registry, default_registry
    from checks.runner import CheckJob, CheckResult, run_checks

_HOMES = {
    "CheckContext": "checks.base",
    "CheckParams": "checks.base",
    "CheckType": "checks.base",
    "Outcome": "checks.base",
    "Status": "checks.base",
    "Registry": "checks.registry",
    "default_registry": "checks.registry",
    "CheckJob": "checks.runner",
    "CheckResult": "checks.runner",
    "run_checks": "checks.runner",
}

__all__ = [
    "CheckContext",
    "CheckJob",
    "CheckParams",
    "CheckResult",
    "CheckType",
    "Outcome",
    "Registry",
    "Status",
    "default_registry",
    "run_checks",
]


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module 'checks' has no attribute {name!r}")
    return getattr(importlib.import_module(home), name)
