"""Checks of GraphQL arguments shared by resolvers: a bad value is BAD_USER_INPUT."""

from __future__ import annotations

from backend.domain.identifiers import InvalidIdentifier, normalize_ins
from backend.errors import BadUserInput


def ins_argument(raw: str) -> str:
    """The normalized INS, or BAD_USER_INPUT saying what is wrong with it."""
    try:
        return normalize_ins(raw)
    except InvalidIdentifier as exc:
        raise BadUserInput.refused(exc) from None
