"""Automated checks: one module per check type, a registry, and the runner.

This package knows nothing of Slack or the database.
"""

from checks.base import CheckContext, CheckParams, CheckType, Outcome, Status
from checks.registry import Registry, default_registry
from checks.runner import CheckJob, CheckResult, run_checks

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
