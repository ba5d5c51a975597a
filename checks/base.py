"""What every check type shares: its parameters, its outcome, its context."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from enum import StrEnum
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from pydantic import BaseModel, ConfigDict

from checks.durations import Duration

if TYPE_CHECKING:
    import httpx


class Status(StrEnum):
    PASS = "pass"  # noqa: S105 - a check status, not a password
    FAIL = "fail"
    ERROR = "error"


class CheckParams(BaseModel):
    """Parameters every check takes. A check type subclasses this with its own."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    type: str
    timeout: Duration = timedelta(seconds=10)


class UnvalidatedCheck(CheckParams):
    """A check as read from app.yaml, before its type's own parameters are validated."""

    model_config = ConfigDict(extra="allow", frozen=True)


@dataclass(frozen=True)
class Outcome:
    """What a check found: its status, one line a person understands, the observed values."""

    status: Status
    reason: str
    values: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def passed(cls, reason: str, **values: Any) -> Outcome:
        return cls(Status.PASS, reason, values)

    @classmethod
    def failed(cls, reason: str, **values: Any) -> Outcome:
        return cls(Status.FAIL, reason, values)

    @classmethod
    def errored(cls, reason: str, **values: Any) -> Outcome:
        return cls(Status.ERROR, reason, values)


@dataclass(frozen=True)
class CheckContext:
    """What a running check may use: the one shared HTTP client, a cap on bodies read, and
    the environment the bot was configured from (secrets named by `token_env`)."""

    http: httpx.AsyncClient
    max_body_bytes: int = 2 * 1024 * 1024
    environ: Mapping[str, str] = field(default_factory=dict)


P = TypeVar("P", bound=CheckParams)


@dataclass(frozen=True)
class CheckType(Generic[P]):
    """A check type: its name in app.yaml, its parameter model, and how it runs."""

    name: str
    params: type[P]
    run: Callable[[P, CheckContext], Awaitable[Outcome]]
