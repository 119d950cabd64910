"""Sharing changes: the same grant sent again is no new event."""

from __future__ import annotations

import asyncio

import httpx

from backend.domain.enums import AccessAction, Profession
from backend.models import AccessEvent, Grant, Record
from tests import factories
from tests.conftest import Caller, session_for

GRANT = """mutation($p: ID!, $s: [Section!]!) {
  grantAccess(practitionerId: $p, sections: $s) { sharing { grants { sections } } } }"""


async def _changes(record: Record) -> int:
    return await AccessEvent.filter(record_id=record.id, action=AccessAction.SHARING_CHANGED.value).count()


async def test_the_same_grant_sent_again_or_at_once_is_one_event(client: httpx.AsyncClient) -> None:
    account, record = await factories.patient()
    caller = Caller(client, session=await session_for(account))
    _, doctor = await factories.practitioner(Profession.MEDECIN)
    pid = str(doctor.id)
    (await caller.gql(GRANT, {"p": pid, "s": ["ALLERGIES", "MEDICATIONS"]})).ok()
    assert await _changes(record) == 1
    # The same sections, in another order, repeated: nothing changes, nothing is written.
    data = (await caller.gql(GRANT, {"p": pid, "s": ["MEDICATIONS", "ALLERGIES", "ALLERGIES"]})).ok()
    assert data["grantAccess"]["sharing"]["grants"] == [{"sections": ["MEDICATIONS", "ALLERGIES"]}]
    assert await _changes(record) == 1
    answers = await asyncio.gather(
        *(caller.gql(GRANT, {"p": pid, "s": ["LAB_RESULTS"]}) for _ in range(8)))
    for answer in answers:
        answer.ok()
    assert await _changes(record) == 2
    assert [g.sections for g in await Grant.filter(record_id=record.id)] == [["LAB_RESULTS"]]
