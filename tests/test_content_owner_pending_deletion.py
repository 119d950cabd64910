"""The owner's writes while their record waits for its deletion (DESIGN §2, §4): refused with
words that say why, and nothing written, no ACCESS_DENIED in their own history included (the
owner is not someone refused an access). Others are refused, and noted, as before."""

from __future__ import annotations

import httpx

from backend.domain.enums import Section
from backend.models import AccessEvent, Entry, Grant
from tests import factories
from tests.conftest import Caller, session_for

ADD = """mutation ($input: AddEntryInput!) { addEntry(input: $input) { entry { id } } }"""
PROFILE = """mutation ($input: EmergencyProfileInput!) {
  updateEmergencyProfile(input: $input) { emergencyProfile { bloodGroup } } }"""


async def test_the_owners_writes_say_the_record_is_pending_deletion_and_write_nothing(
    client: httpx.AsyncClient,
) -> None:
    owner, record = await factories.patient()
    caller = Caller(client, session=await session_for(owner))
    await factories.pending_deletion(record)
    entry = {"section": "DOCUMENTS", "title": "Compte rendu", "date": "2026-01-05"}
    answers = [
        await caller.gql(ADD, {"input": entry}),
        await caller.gql(PROFILE, {"input": {"bloodGroup": "A+"}}),
    ]
    for answer in answers:
        assert answer.codes == ["FORBIDDEN"], answer.errors
        assert "pending deletion" in answer.errors[0]["message"]
    assert await Entry.filter(record_id=record.id).count() == 0
    await record.refresh_from_db()
    assert record.blood_group is None
    assert await AccessEvent.filter(record_id=record.id).count() == 0


async def test_a_practitioner_on_that_record_is_still_refused_and_noted(client: httpx.AsyncClient) -> None:
    _, record = await factories.patient()
    doctor, pro = await factories.practitioner()
    await Grant.create(record=record, practitioner=pro, sections=[Section.MEDICATIONS.value])
    await factories.pending_deletion(record)
    caller = Caller(client, session=await session_for(doctor))
    entry = {"ins": record.ins, "section": "MEDICATIONS", "title": "Amoxicilline", "date": "2026-01-05"}
    answer = await caller.gql(ADD, {"input": entry})
    assert answer.codes == ["FORBIDDEN"]
    assert answer.errors[0]["message"] == "No access to this record"
    assert await Entry.filter(record_id=record.id).count() == 0
    actions = await AccessEvent.filter(record_id=record.id).values_list("action", flat=True)
    assert actions == ["ACCESS_DENIED"]
