"""Public errors: their message and `extensions.code` reach the client (DESIGN §6)."""

from __future__ import annotations

import asyncio
import time
from typing import Any

from graphql import GraphQLError

from backend.domain.reasons import Reason, Refused


class PublicError(GraphQLError):
    code = "INTERNAL"

    def __init__(self, message: str, **extra: Any) -> None:
        super().__init__(message, extensions={"code": self.code, **extra})


class Unauthenticated(PublicError):
    code = "UNAUTHENTICATED"

    def __init__(self, message: str = "Authentication required", **extra: Any) -> None:
        super().__init__(message, **extra)


class Forbidden(PublicError):
    code = "FORBIDDEN"

    def __init__(self, message: str = "Not allowed", **extra: Any) -> None:
        super().__init__(message, **extra)


class NoAccess(Forbidden):
    """A refusal that must not tell whether the record exists: the same words for a record
    the caller may not see and for one that does not exist, and the same time. Only the
    first writes an event (a denied attempt) in the record's history, which takes a few
    milliseconds: the answer to either waits until `REFUSAL_FLOOR` has passed since the
    request began writing its history (`answer_no_sooner`)."""


# Longer than a denied attempt's event takes to write on a healthy database (3 to 11 ms).
REFUSAL_FLOOR = 0.03


async def answer_no_sooner(since: float) -> None:
    """Wait until `REFUSAL_FLOOR` seconds after `since` (`time.perf_counter()`)."""
    wait = since + REFUSAL_FLOOR - time.perf_counter()
    if wait > 0:
        await asyncio.sleep(wait)


def hides_existence(errors: Any) -> bool:
    """Whether one of a result's errors is a `NoAccess` refusal."""
    return any(
        isinstance(error, NoAccess) or isinstance(getattr(error, "original_error", None), NoAccess)
        for error in errors or ()
    )


class BadUserInput(PublicError):
    """Refused input: `extensions.reason` names the rule (backend/domain/reasons.py), and the
    values its wording needs travel beside it."""

    code = "BAD_USER_INPUT"

    def __init__(self, message: str, reason: Reason, **extra: Any) -> None:
        super().__init__(message, reason=reason.value, **extra)

    @classmethod
    def text(cls, message: str, value: str, field: str, limit: int) -> BadUserInput:
        """A required text refused: empty, or longer than `limit` characters."""
        reason = Reason.FIELD_TOO_LONG if value else Reason.FIELD_REQUIRED
        return cls(message, reason, field=field, max=limit)

    @classmethod
    def refused(cls, exc: Refused) -> BadUserInput:
        """The error for a domain refusal: its message, reason and values."""
        return cls(str(exc), exc.reason, **exc.params)


class NotFound(PublicError):
    code = "NOT_FOUND"

    def __init__(self, message: str = "Not found", **extra: Any) -> None:
        super().__init__(message, **extra)


class RateLimited(PublicError):
    code = "RATE_LIMITED"

    def __init__(self, message: str = "Too many attempts, try again later", **extra: Any) -> None:
        super().__init__(message, **extra)


class Conflict(PublicError):
    code = "CONFLICT"


class Internal(PublicError):
    code = "INTERNAL"

    def __init__(self, message: str = "Internal error", **extra: Any) -> None:
        super().__init__(message, **extra)
