"""Logging: plain lines, or JSON lines (LOG_FORMAT=json) carrying each Slack request's id."""

from __future__ import annotations

import itertools
import logging
import secrets
from contextvars import ContextVar

from pythonjsonlogger.json import JsonFormatter

# Set for each request to /slack/events; the work it spawns inherits it (asyncio copies
# the context into tasks), so every line about one request carries its id.
REQUEST_ID: ContextVar[str] = ContextVar("request_id", default="-")
_RUN = secrets.token_hex(4)  # this process's random prefix, then a counter: cheap and unique
_NUMBERS = itertools.count(1)


def new_request_id() -> str:
    return f"{_RUN}{next(_NUMBERS):x}"


class _RequestId(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = REQUEST_ID.get()
        return True


def configure(level: str, fmt: str) -> None:
    handler = logging.StreamHandler()
    handler.addFilter(_RequestId())
    if fmt == "json":
        handler.setFormatter(
            JsonFormatter(
                "%(asctime)s %(levelname)s %(name)s %(message)s %(request_id)s",
                rename_fields={"asctime": "time", "levelname": "level", "name": "logger"},
            )
        )
    else:
        handler.setFormatter(
            logging.Formatter("%(asctime)s %(levelname)s %(name)s [%(request_id)s]: %(message)s")
        )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    # Routine INFO lines of libraries ("Adding job tentatively -- it will be properly
    # scheduled when the scheduler starts", each job's run); their warnings and errors (a
    # job skipped or failing, a missed run) still show.
    for noisy in (
        "httpx",
        "alembic.runtime.plugins",
        "apscheduler.scheduler",
        "apscheduler.executors.default",
    ):
        logging.getLogger(noisy).setLevel(logging.WARNING)
