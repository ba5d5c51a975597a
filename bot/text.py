"""Showing people's text in Slack safely: escaped, so it can't mention @channel or fake links."""

from __future__ import annotations

import re

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def escape(text: str) -> str:
    """Slack's three control characters, escaped as its docs ask."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def clean(text: str) -> str:
    """Strip control characters and surrounding space from text a person typed."""
    return _CONTROL.sub("", text).strip()


def quote(text: str) -> str:
    return "\n".join(f"> {line}" for line in escape(text).splitlines())


def truncate(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"
