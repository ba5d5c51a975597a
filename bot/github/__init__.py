"""Readiness as a GitHub App: the webhook, and the REST calls that answer a waiting job."""
