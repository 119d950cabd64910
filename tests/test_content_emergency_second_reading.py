"""updateEmergencyProfile: a contact's phone has digits; the same profile sent again is no event."""

from __future__ import annotations

import asyncio

import httpx

from backend.models import AccessEvent
from tests import factories
from tests.conftest import Caller, session_for

UPDATE = """
mutation ($input: EmergencyProfileInput!) {
  updateEmergencyProfile(input: $input) { emergencyProfile { bloodGroup emergencyContacts { phone } } }
}"""


async def test_a_contact_phone_without_six_digits_is_refused(client: httpx.AsyncClient) -> None:
    patient, record = await factories.patient()
    owner = Caller(client, session=await session_for(patient))
    for phone in ("0-----", "1 . . . . .", "+1------------", "06 12"):
        answer = await owner.gql(UPDATE, {"input": {"emergencyContacts": [{"name": "Paul", "phone": phone}]}})
        assert answer.codes == ["BAD_USER_INPUT"], phone
        assert answer.errors[0]["extensions"]["reason"] == "INVALID_PHONE"
    await record.refresh_from_db()
    assert record.emergency_contacts == []
    assert await AccessEvent.filter(record_id=record.id).count() == 0
    contact = [{"name": "Paul", "phone": "06.12.34.56.78"}]
    ok = await owner.gql(UPDATE, {"input": {"emergencyContacts": contact}})
    assert ok.ok()["updateEmergencyProfile"]["emergencyProfile"]["emergencyContacts"] == [
        {"phone": "06.12.34.56.78"}]


async def test_the_same_profile_sent_again_or_at_once_is_one_event(client: httpx.AsyncClient) -> None:
    patient, record = await factories.patient()
    owner = Caller(client, session=await session_for(patient))
    data = {"bloodGroup": "A+", "emergencyContacts": [{"name": "Paul", "phone": "0612345678"}],
            "advanceDirectives": "Aucune"}
    for answer in await asyncio.gather(*(owner.gql(UPDATE, {"input": data}) for _ in range(6))):
        answer.ok()
    assert await AccessEvent.filter(record_id=record.id, action="EMERGENCY_PROFILE_UPDATED").count() == 1
    # The same values, written as the profile stores them ("a+" is A+): nothing changes.
    (await owner.gql(UPDATE, {"input": {"bloodGroup": " a+ ", "advanceDirectives": "Aucune"}})).ok()
    assert await AccessEvent.filter(record_id=record.id, action="EMERGENCY_PROFILE_UPDATED").count() == 1
    # One field that does change: one event more.
    answer = (await owner.gql(UPDATE, {"input": {"bloodGroup": "B-", "advanceDirectives": "Aucune"}})).ok()
    assert answer["updateEmergencyProfile"]["emergencyProfile"]["bloodGroup"] == "B-"
    assert await AccessEvent.filter(record_id=record.id, action="EMERGENCY_PROFILE_UPDATED").count() == 2
