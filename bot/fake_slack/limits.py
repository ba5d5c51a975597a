"""What one message may carry, checked the same way wherever a message is sent: the Web API
(chat.postMessage, chat.update, chat.postEphemeral) and a POST to a response_url.

- the top-level `text`: at most 40,000 characters (`msg_too_long`);
- the blocks: Block Kit's own limits (blockkit.message_problems: 50 blocks, a section's
  text 3,000, a field 2,000, a header 150, ...; `invalid_blocks`);
- all the text the blocks hold together (every text object's `text`: sections and their
  fields, context elements, headers, buttons, options, ...): at most 12,000 characters
  (`msg_blocks_too_long`; not documented by Slack, reported in bolt-js #2509 and #2867).

A response_url is answered as Slack answers a webhook it refuses: HTTP 400 and the error
as the body ("invalid_blocks"), and nothing is posted.
"""

from __future__ import annotations

from typing import Any

from bot.fake_slack import blockkit
from bot.fake_slack.model import JSON, SlackError, block_texts

MAX_TEXT = 40_000
MAX_BLOCKS_TEXT = 12_000
WEBHOOK_REFUSED = 400


def blocks_text_length(blocks: list[Any]) -> int:
    """The characters of text the blocks hold, all text objects together."""
    return sum(len(text) for text in block_texts(blocks))


def check_message(text: str, blocks: list[JSON] | None, strict: bool = True) -> None:
    """Raise the SlackError Slack answers a message with TEXT and BLOCKS, if it refuses it.
    STRICT (the default) checks the blocks too, not only the top-level text."""
    if len(text) > MAX_TEXT:
        raise SlackError("msg_too_long")
    if not strict or blocks is None:
        return
    problems = blockkit.message_problems(blocks)
    if problems:
        raise SlackError(
            "invalid_blocks",
            errors=problems,
            response_metadata={"messages": [f"[ERROR] {p}" for p in problems]},
        )
    length = blocks_text_length(blocks)
    if length > MAX_BLOCKS_TEXT:
        problem = f"blocks hold {length} characters of text, more than {MAX_BLOCKS_TEXT}"
        raise SlackError("msg_blocks_too_long", response_metadata={"messages": [problem]})


def check_response(body: Any, strict: bool = True) -> None:
    """Raise, as an HTTP 400 refusal, what Slack answers this body POSTed to a response_url."""
    if not isinstance(body, dict):
        raise SlackError("invalid_payload", http_status=WEBHOOK_REFUSED)
    blocks, text = body.get("blocks"), body.get("text")
    try:
        if blocks is not None and not isinstance(blocks, list):
            raise SlackError("invalid_blocks")
        check_message(text if isinstance(text, str) else "", blocks, strict)
    except SlackError as refused:
        raise SlackError(refused.error, http_status=WEBHOOK_REFUSED, **refused.extra) from None
