"""The Slack Web API client: one per bot, counting and timing every call for /metrics."""

from __future__ import annotations

import time
from typing import Any

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.web.async_slack_response import AsyncSlackResponse

from bot.runtime.metrics import Metrics


class MeteredWebClient(AsyncWebClient):
    """The Slack Web API client, counting and timing every call by method and outcome."""

    metrics: Metrics | None = None

    async def api_call(self, api_method: str, **kwargs: Any) -> AsyncSlackResponse:  # type: ignore[override]
        started = time.perf_counter()
        status = "ok"
        try:
            return await super().api_call(api_method, **kwargs)
        except SlackApiError as exc:
            code = exc.response.status_code
            status = (
                str(exc.response.get("error") or f"http_{code}")
                if exc.response.data
                else (f"http_{code}")
            )
            raise
        except Exception as exc:
            status = type(exc).__name__
            raise
        finally:
            if self.metrics is not None:
                self.metrics.slack_calls.labels(api_method, status).inc()
                self.metrics.slack_seconds.labels(api_method).observe(time.perf_counter() - started)


def make_client(token: str, api_url: str) -> MeteredWebClient:
    base = api_url if api_url.endswith("/") else api_url + "/"
    return MeteredWebClient(token=token, base_url=base, timeout=10)
