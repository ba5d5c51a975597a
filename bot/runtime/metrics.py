"""What operators scrape at /metrics: one registry per running bot, no module globals."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping

from prometheus_client import CollectorRegistry, Gauge, Histogram, generate_latest
from prometheus_client import Counter as Counted

ACK_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 3.0, 5.0)


class Metrics:
    """With BY_PRODUCT (a bot serving several products), release and check figures carry a
    `product` label; one product's bot keeps the labels it always had."""

    def __init__(self, by_product: bool = False) -> None:
        self.registry = CollectorRegistry()
        self.by_product = by_product
        r = self.registry
        product = ["product"] if by_product else []
        self.requests = Counted(
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
        self.check_results = Counted(
            "readiness_check_results",
            "Check results by check type and status (and product)",
            [*product, "type", "status"],
            registry=r,
        )
        self.check_seconds = Histogram(
            "readiness_check_seconds",
            "Duration of each check by type (and product)",
            [*product, "type"],
            buckets=(0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60),
            registry=r,
        )
        self.slack_calls = Counted(
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
        self.releases = Gauge(
            "readiness_releases", "Releases by state (and product)", [*product, "state"], registry=r
        )

    def _labels(self, product: str, *rest: str) -> tuple[str, ...]:
        return (product, *rest) if self.by_product else rest

    def check(self, product: str, check_type: str, status: str, seconds: float) -> None:
        self.check_results.labels(*self._labels(product, check_type, status)).inc()
        self.check_seconds.labels(*self._labels(product, check_type)).observe(seconds)

    def count_releases(
        self, counts: Mapping[tuple[str, str], int], products: Iterable[str], states: Iterable[str]
    ) -> None:
        """The releases gauge from counts by (product, state): every state of every product
        shown, 0 where there is none."""
        totals: Counter[tuple[str, ...]] = Counter()
        for product in products:
            for state in states:
                totals[self._labels(product, state)] += 0
        for (product, state), n in counts.items():
            totals[self._labels(product, state)] += n
        for key, n in totals.items():
            self.releases.labels(*key).set(n)

    def render(self) -> bytes:
        return generate_latest(self.registry)
