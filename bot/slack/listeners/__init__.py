"""Thin Bolt listeners, one module per Slack surface."""
