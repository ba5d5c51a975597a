"""The slash command's words: every option is one the verb takes, with a value."""

from __future__ import annotations

import pytest

from bot.domain.errors import InvalidInput
from bot.slack.listeners.commands import Command, check_options, parse


def command(text: str) -> Command:
    return parse({"text": text, "user_id": "UREL", "channel_id": "C1"})


@pytest.mark.parametrize(
    ("text", "said"),
    [
        ("new LUMINES 2.0.0 foo=bar", "I don't know the option foo=; /readiness new takes ref=, "
         "window=."),
        ("new LUMINES 2.0.0 rev=abc", "I don't know the option rev="),
        ("new LUMINES 2.0.0 ref=", "Give a value after ref=."),
        ("status LUMINES ref=abc", "I don't know the option ref=; /readiness status takes no"),
    ],
)  # fmt: skip
def test_an_option_a_verb_does_not_take_is_refused(text: str, said: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        check_options(command(text))
    assert str(refused.value).startswith(said)


def test_the_options_new_takes_pass() -> None:
    parsed = parse(
        {"text": "new LUMINES 2.0.0 ref=abc window=A/B", "user_id": "U", "channel_id": "C"}
    )
    check_options(parsed)
    assert parsed.name == "LUMINES 2.0.0" and parsed.options == {"ref": "abc", "window": "A/B"}
