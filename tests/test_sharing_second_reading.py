"""Sharing changes: the same grant sent again is no new event; a revocation or an unblocking
checks again, under the record's lock, that the record is still active."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from backend.domain.enums import AccessAction, Profession, RecordStatus
from backend.models import AccessEvent, BlockedPractitioner, Grant, Record
from tests import factories
from tests.conftest import Caller, session_for
from tests.sharing_helpers import left_active_after_the_check

GRANT = """mutation($p: ID!, $s: [Section!]!) {
  grantAccess(practitionerId: $p, sections: $s) { sharing { grants { sections } } } }"""
REVOKE = "mutation($p: ID!) { revokeAccess(practitionerId: $p) { sharing { grants { sections } } } }"
BLOCK = "mutation($p: ID!) { blockPractitioner(practitionerId: $p) { sharing { blocked { id } } } }"
UNBLOCK = "mutation($p: ID!) { unblockPractitioner(practitionerId: $p) { sharing { blocked { id } } } }"


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


@pytest.mark.parametrize("status", [RecordStatus.CLOSED, RecordStatus.DELETED])
async def test_a_revocation_or_unblocking_after_the_record_left_active_writes_nothing(
    client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch, status: RecordStatus
) -> None:
    """The record closed (or its deletion requested) between the first check and the lock:
    the change is refused, as a grant or a block is, and no event is written."""
    account, record = await factories.patient()
    caller = Caller(client, session=await session_for(account))
    _, doctor = await factories.practitioner(Profession.MEDECIN)
    _, nurse = await factories.practitioner(Profession.INFIRMIER)
    (await caller.gql(GRANT, {"p": str(doctor.id), "s": ["ALLERGIES"]})).ok()
    (await caller.gql(BLOCK, {"p": str(nurse.id)})).ok()
    before = await AccessEvent.filter(record_id=record.id).count()
    left_active_after_the_check(monkeypatch, record, status)
    assert (await caller.gql(REVOKE, {"p": str(doctor.id)})).codes == ["FORBIDDEN"]
    await Record.filter(id=record.id).update(status=RecordStatus.ACTIVE)
    assert (await caller.gql(UNBLOCK, {"p": str(nurse.id)})).codes == ["FORBIDDEN"]
    assert await Grant.filter(record_id=record.id).count() == 1
    assert await BlockedPractitioner.filter(record_id=record.id).count() == 1
    assert await AccessEvent.filter(record_id=record.id).count() == before
