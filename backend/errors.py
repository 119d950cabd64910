"""Public errors: their message and `extensions.code` reach the client (DESIGN §6)."""

from __future__ import annotations

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
