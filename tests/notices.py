"""Reading the outbox as Slack gets it: each queued notice rendered as the sender renders it."""

from __future__ import annotations

import json
from typing import Any

from bot.domain.notices import decode
from bot.slack.blocks.notices import render


def as_sent(kind: str | None, data: dict[str, Any] | str | None, text: str) -> str:
    """A queued message's text as it goes to Slack (DATA as stored, or its JSON text)."""
    facts = json.loads(data) if isinstance(data, str) else data
    notice = decode(kind, facts)
    return text if notice is None else render(notice)[0]
