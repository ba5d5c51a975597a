"""Markdown for the sign-off document: what people typed or a target answered reads
literally (escaped), people are named by display name and user id, the domain's phrases
rendered."""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC, datetime

from bot.domain.text import Aside, Code, Moment, Part, Person, Phrase, Strong, plain_part

_SPECIAL = re.compile(r"([\\`*_\[\]<#|~]|&(?=#?[A-Za-z0-9]+;))")


def md(text: str | None) -> str:
    """Literal text on one line: whitespace folded; what would format it (emphasis, code,
    links, HTML, entities, headings) backslash-escaped."""
    return _SPECIAL.sub(r"\\\1", " ".join((text or "").split()))


def code(text: str) -> str:
    """A code span holding any text, backticks included."""
    flat = " ".join(text.split())
    longest = max((len(run) for run in re.findall(r"`+", flat)), default=0)
    fence = "`" * (longest + 1)
    pad = " " if flat.startswith("`") or flat.endswith("`") else ""
    return f"{fence}{pad}{flat}{pad}{fence}"


def quoted(text: str, indent: str = "") -> list[str]:
    """A block quote, line by line, each escaped; a leading `1.` or `-` stays literal."""
    lines = []
    for raw in text.strip().splitlines() or [""]:
        line = re.sub(r"^(\d+)([.)])", r"\1\\\2", md(raw))
        if line[:1] in ("-", "+", "=", ">"):
            line = "\\" + line
        lines.append(f"{indent}> {line}".rstrip())
    return lines


def stamp(at: datetime | None) -> str:
    return at.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC") if at else "—"


def who(user: str | None, names: Mapping[str, str]) -> str:
    """A person: display name when known, and always the Slack user id."""
    if not user:
        return "—"
    name = names.get(user)
    return f"{md(name)} ({code(user)})" if name else code(user)


def _spaced(text: str) -> str:
    """A piece of a sentence: escaped and folded like `md`, keeping its edge spaces."""
    if not text.strip():
        return " " if text else ""
    lead = " " if text[0].isspace() else ""
    trail = " " if text[-1].isspace() else ""
    return lead + md(text) + trail


def _part_md(part: Part, names: Mapping[str, str]) -> str:
    if isinstance(part, Person):
        return md(f"@{names[part.text]} ({part.text})" if part.text in names else f"@{part.text}")
    if isinstance(part, Code):
        return code(part.text)
    if isinstance(part, Strong | Aside):
        mark = "**" if isinstance(part, Strong) else "_"
        return f"{mark}{md(part.text)}{mark}"
    if isinstance(part, Moment):
        return stamp(part.at)
    return _spaced(plain_part(part))  # plain words; a user group, a channel, a quote too


def phrase_md(phrase: Phrase, names: Mapping[str, str]) -> str:
    """A phrase in the document: people by display name and user id, code as code."""
    return "".join(_part_md(part, names) for part in phrase.parts)
