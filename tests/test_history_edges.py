"""Edges of myAccessHistory and of the emergency review: forged cursors, the review's comment."""

from __future__ import annotations

import base64

import httpx

from tests.history_helpers import READ, setup
from tests.test_history_api import HISTORY


async def test_a_cursor_past_any_sequence_number_is_refused_as_invalid(client: httpx.AsyncClient) -> None:
    """A cursor names an event's sequence number; one no event can have (past the column's
    range, or below 1) is an invalid cursor, not an internal error of the database."""
    s = await setup(client)
    (await s["as_pro"].gql(READ, {"ins": s["record"].ins})).ok()
    for value in ("2147483648", "99999999999999999999", "0", "-1"):
        cursor = base64.urlsafe_b64encode(f"h|{value}".encode()).decode()
        result = await s["as_patient"].gql(HISTORY, {"first": 5, "after": cursor})
        assert result.codes == ["BAD_USER_INPUT"], (value, result.errors)
        extensions = result.errors[0]["extensions"]
        assert extensions["reason"] == "INVALID_ID" and extensions["field"] == "after"
    # The largest number a sequence may hold is still a cursor: every event comes before it.
    cursor = base64.urlsafe_b64encode(b"h|2147483647").decode()
    page = (await s["as_patient"].gql(HISTORY, {"first": 5, "after": cursor})).ok()["myAccessHistory"]
    assert [e["node"]["seq"] for e in page["edges"]] == [1]
