"""What operators scrape at /metrics: one registry per running bot, no module globals."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest

ACK_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 3.0, 5.0)


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        r = self.registry
        self.requests = Counter(
            "readiness_slack_requests",
            "Requests from Slack by surface (command, action, view, event) and outcome",
            ["surface", "outcome"],
            registry=r,
        )
        self.ack_seconds = Histogram(
            "readiness_ack_seconds",
            "Time from a Slack request's arrival to its answer (Slack waits 3 s at most)",
            ["surface"],
            buckets=ACK_BUCKETS,
            registry=r,
        )
        self.check_results = Counter(
            "readiness_check_results",
            "Check results by check type and status",
            ["type", "status"],
            registry=r,
        )
        self.check_seconds = Histogram(
            "readiness_check_seconds",
            "Duration of each check by type",
            ["type"],
            buckets=(0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60),
            registry=r,
        )
        self.slack_calls = Counter(
            "readiness_slack_api_calls",
            "Slack Web API calls by method and status (ok, the error code, or http_<status>)",
            ["method", "status"],
            registry=r,
        )
        self.slack_seconds = Histogram(
            "readiness_slack_api_seconds",
            "Duration of Slack Web API calls by method",
            ["method"],
            registry=r,
        )
        self.outbound_pending = Gauge(
            "readiness_outbound_pending",
            "Messages and card updates waiting to reach Slack",
            ["kind"],
            registry=r,
        )
        self.releases = Gauge("readiness_releases", "Releases by state", ["state"], registry=r)

    def check(self, check_type: str, status: str, seconds: float) -> None:
        self.check_results.labels(check_type, status).inc()
        self.check_seconds.labels(check_type).observe(seconds)

    def render(self) -> bytes:
        return generate_latest(self.registry)
