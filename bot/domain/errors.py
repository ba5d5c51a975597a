"""Domain errors: each carries a message fit to show the person who caused it."""


class DomainError(Exception):
    """A request the rules refuse; `str(error)` is the explanation for the user."""


class NotAuthorized(DomainError):
    pass


class NotFound(DomainError):
    pass


class InvalidState(DomainError):
    pass


class InvalidInput(DomainError):
    pass
