"""The GitHub App manifest: what `readiness manifest --github` prints, to create the app
at github.com/settings/apps/new (or an organisation's) by the manifest flow."""

from __future__ import annotations

from typing import Any

EVENTS_PATH = "/github/events"
PLACEHOLDER = "https://readiness.example.com"


def github_manifest(url: str | None) -> dict[str, Any]:
    """Permissions: Actions read (the run a rule waits in), Deployments read and write
    (answer the rule, see deployment statuses); events: the rule and deployment status."""
    base = (url or PLACEHOLDER).strip().rstrip("/")
    if not base.startswith("https://"):
        raise ValueError(f"--url: GitHub delivers webhooks to https:// URLs here, not {url!r}")
    return {
        "name": "Readiness",
        "url": base,
        "description": "Holds deployments to protected environments until the release is "
        "signed off in Slack.",
        "public": False,
        "hook_attributes": {"url": base + EVENTS_PATH, "active": True},
        "default_permissions": {"actions": "read", "deployments": "write"},
        "default_events": ["deployment_protection_rule", "deployment_status"],
    }
