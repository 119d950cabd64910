"""Edges of myAccessHistory and of the emergency review: forged cursors, the review's comment."""

from __future__ import annotations

import base64

import httpx

from backend.models import AccessEvent, EmergencySession
from tests.history_helpers import READ, break_glass, setup
from tests.history_helpers import reviewed as reviewed_reason
from tests.test_history_api import HISTORY, REPORT


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


async def test_the_report_comment_is_kept_as_it_shows(client: httpx.AsyncClient) -> None:
    """The patient's comment goes into their history as it shows: without direction
    overrides, controls or zero-width characters, its line breaks kept; a comment that shows
    nothing is no comment (the same report again writes nothing); the limit counts what shows."""
    s = await setup(client)
    session = await break_glass(s["record"], s["pro"])
    sent = "  Je ne connais pas\u202e ce médecin\u0007\u200b\r\nEt je n'étais pas aux urgences  "
    (await s["as_patient"].gql(REPORT, {"id": str(session.id), "c": sent})).ok()
    (await s["as_patient"].gql(REPORT, {"id": str(session.id), "c": "\u200b\u202e \u200d"})).ok()
    reviewed = await AccessEvent.filter(record_id=s["record"].id, action="EMERGENCY_REVIEWED")
    assert [e.reason for e in reviewed] == [
        await reviewed_reason(
            session, "REPORTED", "Je ne connais pas ce médecin\nEt je n'étais pas aux urgences")
    ]
    # 2,000 characters that show, with invisible ones around them, are not too long.
    (await s["as_patient"].gql(REPORT, {"id": str(session.id), "c": "\u200b" * 10 + "x" * 2000})).ok()
    reviewed = await AccessEvent.filter(record_id=s["record"].id, action="EMERGENCY_REVIEWED").order_by("seq")
    assert reviewed[-1].reason == await reviewed_reason(session, "REPORTED", "x" * 2000)
    too_long = await s["as_patient"].gql(REPORT, {"id": str(session.id), "c": "x" * 2001})
    assert too_long.codes == ["BAD_USER_INPUT"]
    assert too_long.errors[0]["extensions"]["reason"] == "FIELD_TOO_LONG"
    assert await AccessEvent.filter(record_id=s["record"].id, action="EMERGENCY_REVIEWED").count() == 2
    assert (await EmergencySession.get(id=session.id)).review_state == "REPORTED"
