"""Readiness: production-readiness sign-off in Slack."""
