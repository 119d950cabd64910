"""Public errors: their message and `extensions.code` reach the client (DESIGN §6)."""

from __future__ import annotations

from typing import Any

from graphql import GraphQLError


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
    code = "BAD_USER_INPUT"


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
