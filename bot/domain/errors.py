"""Domain errors: each carries a message fit to show the person who caused it.

The message is a phrase (`bot/domain/text.py`): `str(error)` is its plain words (the API,
the terminal, logs); Slack renders `error.phrase` with live mentions.
"""

from __future__ import annotations

from bot.domain.text import Part, Phrase, phrase


class DomainError(Exception):
    """A request the rules refuse; `str(error)` is the explanation for the user."""

    def __init__(self, *parts: Part | Phrase) -> None:
        self.phrase = phrase(*parts)
        super().__init__(str(self.phrase))


class NotAuthorized(DomainError):
    pass


class NotFound(DomainError):
    pass


class InvalidState(DomainError):
    pass


class InvalidInput(DomainError):
    pass


class Conflict(DomainError):
    """The storage refused a write that a rule forbids (a unique constraint): someone else
    did the same a moment ago. Services say what that means; this text is the fallback."""

    def __init__(self, *parts: Part | Phrase) -> None:
        super().__init__(*(parts or ("Someone else changed this a moment ago; please try again.",)))


class Ambiguous(InvalidInput):
    """A release name that several products use, asked without saying which product."""

    def __init__(self, products: list[str], *parts: Part | Phrase) -> None:
        super().__init__(*parts)
        self.products = products


class ProductGone(NotFound):
    """A release whose product is no longer in the config (its file removed or renamed)."""
