"""Acknowledging and reporting one emergency access, in either order.

A report (the access was not justified) stands: acknowledging it afterwards is refused with
CONFLICT and writes nothing. Reporting an access once acknowledged is allowed: the patient
may learn more and change their mind."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
import pytest

from backend.domain.enums import ReviewState
from backend.models import AccessEvent, EmergencySession
from tests.history_helpers import break_glass, reviewed, setup

ACK = "mutation($id: ID!) { acknowledgeEmergencyAccess(id: $id) { id reviewState } }"
REPORT = """mutation($id: ID!, $c: String) {
  reportEmergencyAccess(id: $id, comment: $c) { id reviewState } }"""
REVIEWED = "EMERGENCY_REVIEWED"


async def _reviews(record_id: object) -> list[str]:
    events = await AccessEvent.filter(record_id=record_id, action=REVIEWED).order_by("seq")
    return [e.reason for e in events]


async def test_a_report_is_not_acknowledged_afterwards(client: httpx.AsyncClient) -> None:
    s = await setup(client)
    session = await break_glass(s["record"], s["pro"])
    done = (await s["as_patient"].gql(REPORT, {"id": str(session.id), "c": "Je ne le connais pas"})).ok()
    assert done["reportEmergencyAccess"]["reviewState"] == "REPORTED"
    before = await AccessEvent.filter(record_id=s["record"].id).count()

    refused = await s["as_patient"].gql(ACK, {"id": str(session.id)})
    assert refused.codes == ["CONFLICT"] and refused.data is None
    assert "reported" in refused.errors[0]["message"]
    stored = await EmergencySession.get(id=session.id)
    assert stored.review_state == ReviewState.REPORTED
    assert await AccessEvent.filter(record_id=s["record"].id).count() == before
    assert await _reviews(s["record"].id) == [await reviewed(session, "REPORTED", "Je ne le connais pas")]
    # The list still shows it reported.
    listed = (await s["as_patient"].gql("{ myEmergencyAccesses { id reviewState } }")).ok()
    assert listed["myEmergencyAccesses"] == [{"id": str(session.id), "reviewState": "REPORTED"}]


async def test_an_acknowledged_access_may_be_reported_later(client: httpx.AsyncClient) -> None:
    s = await setup(client)
    session = await break_glass(s["record"], s["pro"])
    (await s["as_patient"].gql(ACK, {"id": str(session.id)})).ok()
    done = (await s["as_patient"].gql(REPORT, {"id": str(session.id), "c": "Finalement non"})).ok()
    assert done["reportEmergencyAccess"]["reviewState"] == "REPORTED"
    assert (await EmergencySession.get(id=session.id)).review_state == ReviewState.REPORTED
    said = [await reviewed(session, "ACKNOWLEDGED"), await reviewed(session, "REPORTED", "Finalement non")]
    assert await _reviews(s["record"].id) == said
    # And then it stands.
    assert (await s["as_patient"].gql(ACK, {"id": str(session.id)})).codes == ["CONFLICT"]
    assert await _reviews(s["record"].id) == said


async def test_a_report_committed_meanwhile_refuses_the_acknowledgement(
    client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The report commits after the acknowledgement read the access pending and before it
    takes the record's lock: the acknowledgement is refused under the lock, nothing written."""
    from backend.audit.collector import AccessLog

    s = await setup(client)
    session = await break_glass(s["record"], s["pro"])
    changing = AccessLog.changing

    @asynccontextmanager
    async def meanwhile(self: AccessLog, record_id: uuid.UUID) -> AsyncIterator[object]:
        await EmergencySession.filter(id=session.id).update(review_state=ReviewState.REPORTED)
        async with changing(self, record_id) as conn:
            yield conn

    monkeypatch.setattr(AccessLog, "changing", meanwhile)
    result = await s["as_patient"].gql(ACK, {"id": str(session.id)})
    monkeypatch.setattr(AccessLog, "changing", changing)
    assert result.codes == ["CONFLICT"]
    assert (await EmergencySession.get(id=session.id)).review_state == ReviewState.REPORTED
    assert await _reviews(s["record"].id) == []
