"""Slack's mrkdwn: the domain's phrases with live mentions and dates, what people typed
escaped so it can neither mention @channel nor fake a link."""

from __future__ import annotations

import re
from datetime import datetime

from bot.domain.text import (
    Aside,
    Channel,
    Code,
    Group,
    Moment,
    Part,
    Person,
    Phrase,
    Quote,
    Strong,
    stamp,
)


def escape(text: str) -> str:
    """Slack's three control characters, escaped as its docs ask."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def quote(text: str) -> str:
    return "\n".join(f"> {line}" for line in escape(text).splitlines())


def link(url: str) -> str:
    """A URL inside `<url|label>`: escaped, and a `|` in it percent-encoded, so it can't
    set the label (or end the link) itself."""
    return escape(url).replace("|", "%7C")


def when(at: datetime) -> str:
    """A date Slack shows in each reader's own time zone."""
    return f"<!date^{int(at.timestamp())}^{{date_short_pretty}} {{time}}|{stamp(at)}>"


IDS = {Person: "<@{}>", Group: "<!subteam^{}>", Channel: "<#{}>"}  # live mentions
STYLES = {Code: "`{}`", Strong: "*{}*", Aside: "_{}_"}  # around the escaped text


_OPEN_ENTITY = re.compile(r"&[a-z]*$")


def clip(text: str, limit: int) -> str:
    """TEXT (mrkdwn) within LIMIT characters, cut where it doesn't break what Slack reads:
    never inside an escaped character (`&amp;`) or a mention, date or link (`<…>`)."""
    if len(text) <= limit:
        return text
    cut = _OPEN_ENTITY.sub("", text[: limit - 1])
    if cut.rfind("<") > cut.rfind(">"):
        cut = cut[: cut.rfind("<")]
    return cut.rstrip() + "…"


def _part(part: Part) -> str:
    if isinstance(part, str):
        return escape(part)
    if isinstance(part, Moment):
        return when(part.at)
    if isinstance(part, Quote):
        return "\n" + quote(part.text)
    if type(part) in IDS:
        return IDS[type(part)].format(part.text)
    text = escape(part.text)
    if isinstance(part, Code):
        text = text.replace("`", "ˋ")  # a code span can't hold a backtick
    return STYLES[type(part)].format(text)


def mrkdwn(phrase: Phrase) -> str:
    """A phrase as Slack shows it."""
    return "".join(_part(part) for part in phrase.parts)
