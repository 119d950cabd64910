"""Relay-style cursors for keyset pagination."""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import uuid

from backend.domain.reasons import Reason
from backend.errors import BadUserInput

MAX_FIRST = 100


def check_first(first: int) -> int:
    """A page's size, refused outside 0 to MAX_FIRST. `first: 0` is a page as the GraphQL
    Cursor Connections spec has it (a non-negative `first`; only a negative one is an error):
    no edges, endCursor null (no last edge), hasNextPage whether any item the caller may see
    follows `after` (or exists at all), so `totalCount` may be asked alone. A client goes on
    with a positive `first` and the same `after` (tests/test_pagination_first_zero.py)."""
    if first < 0 or first > MAX_FIRST:
        raise BadUserInput(
            f"first must be between 0 and {MAX_FIRST}",
            Reason.OUT_OF_RANGE, field="first", min=0, max=MAX_FIRST,
        )
    return first


_URL_SAFE = bytes.maketrans(b"+/", b"-_")


def encode_entry_cursor(date: dt.date, entry_id: uuid.UUID | str) -> str:
    # base64.urlsafe_b64encode's steps without its two Python calls: one per entry of a page.
    raw = f"e|{date.isoformat()}|{entry_id}".encode()
    return binascii.b2a_base64(raw, newline=False).translate(_URL_SAFE).decode()


def decode_entry_cursor(cursor: str) -> tuple[dt.date, uuid.UUID]:
    try:
        kind, date, entry_id = base64.urlsafe_b64decode(cursor.encode()).decode().split("|")
        if kind != "e":
            raise ValueError(kind)
        return dt.date.fromisoformat(date), uuid.UUID(entry_id)
    except (ValueError, UnicodeDecodeError):
        raise BadUserInput("Invalid cursor", Reason.INVALID_ID, field="after") from None


def encode_int_cursor(kind: str, value: int) -> str:
    return base64.urlsafe_b64encode(f"{kind}|{value}".encode()).decode()


def decode_int_cursor(kind: str, cursor: str) -> int:
    try:
        got, value = base64.urlsafe_b64decode(cursor.encode()).decode().split("|")
        if got != kind:
            raise ValueError(got)
        return int(value)
    except (ValueError, UnicodeDecodeError):
        raise BadUserInput("Invalid cursor", Reason.INVALID_ID, field="after") from None
