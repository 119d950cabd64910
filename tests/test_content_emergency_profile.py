"""updateEmergencyProfile: the owner and the treating physician; checked values."""

from __future__ import annotations

import httpx

from backend.domain.enums import Profession
from backend.models import AccessEvent, Grant, Record
from tests import factories
from tests.conftest import Caller, session_for

UPDATE = """
mutation ($input: EmergencyProfileInput!) {
  updateEmergencyProfile(input: $input) {
    emergencyProfile { bloodGroup advanceDirectives emergencyContacts { name phone relation } }
  }
}"""


async def test_owner_updates_the_profile(client: httpx.AsyncClient) -> None:
    patient, record = await factories.patient()
    owner = Caller(client, session=await session_for(patient))
    data = {"bloodGroup": "ab+", "advanceDirectives": "Pas d'acharnement",
            "emergencyContacts": [{"name": "Paul Martin", "phone": "+33 6 12 34 56 78",
                                   "relation": "frère"}]}
    profile = (await owner.gql(UPDATE, {"input": data})).ok()["updateEmergencyProfile"]
    assert profile["emergencyProfile"] == {
        "bloodGroup": "AB+", "advanceDirectives": "Pas d'acharnement",
        "emergencyContacts": [{"name": "Paul Martin", "phone": "+33 6 12 34 56 78",
                               "relation": "frère"}]}
    # Fields left out stay as they are.
    partial = (await owner.gql(UPDATE, {"input": {"bloodGroup": "O-"}})).ok()
    assert partial["updateEmergencyProfile"]["emergencyProfile"]["advanceDirectives"] == (
        "Pas d'acharnement")
    await record.refresh_from_db()
    assert record.blood_group == "O-" and len(record.emergency_contacts) == 1
    assert await AccessEvent.filter(record_id=record.id,
                                    action="EMERGENCY_PROFILE_UPDATED").count() == 2


async def test_bad_values_change_nothing(client: httpx.AsyncClient) -> None:
    patient, record = await factories.patient()
    owner = Caller(client, session=await session_for(patient))
    for data in ({"bloodGroup": "C+"},
                 {"emergencyContacts": [{"name": "", "phone": "0612345678"}]},
                 {"emergencyContacts": [{"name": "Paul", "phone": "call me"}]},
                 {"emergencyContacts": [{"name": "P", "phone": "0612345678"}] * 6}):
        assert (await owner.gql(UPDATE, {"input": data})).codes == ["BAD_USER_INPUT"]
    # A wrong phone is named by its field, not repeated (it may be anything, of any size).
    long_phone = [{"name": "Paul", "phone": "x" * 100_000}]
    wrong = await owner.gql(UPDATE, {"input": {"emergencyContacts": long_phone}})
    assert wrong.errors[0]["extensions"] == {
        "code": "BAD_USER_INPUT", "reason": "INVALID_PHONE", "field": "emergencyContacts.phone"}
    assert "xxx" not in wrong.errors[0]["message"]
    await record.refresh_from_db()
    assert record.blood_group is None and record.emergency_contacts == []
    assert await AccessEvent.filter(record_id=record.id).count() == 0


async def test_treating_physician_yes_granted_pharmacist_no(client: httpx.AsyncClient) -> None:
    _, record = await factories.patient()
    doctor, practitioner = await factories.practitioner()
    await Record.filter(id=record.id).update(treating_physician_id=practitioner.id)
    physician = Caller(client, session=await session_for(doctor))
    result = await physician.gql(UPDATE, {"input": {"ins": record.ins, "bloodGroup": "B+"}})
    assert result.ok()["updateEmergencyProfile"]["emergencyProfile"]["bloodGroup"] == "B+"
    event = await AccessEvent.get(record_id=record.id, action="EMERGENCY_PROFILE_UPDATED")
    assert event.mode == "TREATING_PHYSICIAN" and event.sections == ["EMERGENCY"]

    pharmacist, pharma = await factories.practitioner(Profession.PHARMACIEN)
    await Grant.create(record=record, practitioner=pharma, sections=["EMERGENCY"])
    refused = await Caller(client, session=await session_for(pharmacist)).gql(
        UPDATE, {"input": {"ins": record.ins, "bloodGroup": "A+"}})
    assert refused.codes == ["FORBIDDEN"]
    await record.refresh_from_db()
    assert record.blood_group == "B+"


async def test_the_profile_keeps_no_invisible_or_direction_character(client: httpx.AsyncClient) -> None:
    """Contacts' names and relations, and the advance directives (line breaks kept), lose
    their direction overrides, zero-width and control characters, as an entry's text does."""
    patient, record = await factories.patient()
    owner = Caller(client, session=await session_for(patient))
    data = {"advanceDirectives": "Pas\u202e d'acharnement\r\nNi\u200b de réanimation",
            "emergencyContacts": [{"name": "\u202eLuap\u200b Martin", "phone": "0612345678",
                                   "relation": "frère\u2066"}]}
    profile = (await owner.gql(UPDATE, {"input": data})).ok()["updateEmergencyProfile"]["emergencyProfile"]
    assert profile["advanceDirectives"] == "Pas d'acharnement\nNi de réanimation"
    assert profile["emergencyContacts"] == [{"name": "Luap Martin", "phone": "0612345678",
                                             "relation": "frère"}]
    await record.refresh_from_db()
    assert record.emergency_contacts[0]["name"] == "Luap Martin"
    refused = await owner.gql(UPDATE, {"input": {"emergencyContacts": [
        {"name": "\u202e\u200b", "phone": "0612345678"}]}})
    assert refused.codes == ["BAD_USER_INPUT"]
    await record.refresh_from_db()
    assert record.emergency_contacts[0]["name"] == "Luap Martin"


async def test_support_is_refused_in_words_that_fit_the_profile(client: httpx.AsyncClient) -> None:
    _, record = await factories.patient()
    agent = Caller(client, session=await session_for(await factories.support()))
    refused = await agent.gql(UPDATE, {"input": {"ins": record.ins, "bloodGroup": "O-"}})
    assert refused.codes == ["FORBIDDEN"]
    # The profile is no entry: the words said "add entries".
    assert refused.errors[0]["message"] == "Only patients and practitioners write to records"
    await record.refresh_from_db()
    assert record.blood_group != "O-"
    assert await AccessEvent.filter(record_id=record.id).count() == 0
