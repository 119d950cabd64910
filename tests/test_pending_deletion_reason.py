"""The owner's writes refused while their record waits for its deletion say so to the page:
FORBIDDEN as before, with `extensions.reason` RECORD_PENDING_DELETION, and nothing written.
Only the owner is given the reason; anyone else's refusal on that record is unchanged."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from backend import clock
from backend.domain.enums import RecordStatus, Section
from backend.models import AccessEvent, BlockedPractitioner, Entry, Grant, Record, StoredFile
from tests import factories
from tests.conftest import Caller, session_for
from tests.document_samples import pdf, upload
from tests.sharing_helpers import left_active_after_the_check

ADD = """mutation ($input: AddEntryInput!) { addEntry(input: $input) { entry { id } } }"""
PROFILE = """mutation ($input: EmergencyProfileInput!) {
  updateEmergencyProfile(input: $input) { emergencyProfile { bloodGroup } } }"""
MASK = "mutation ($id: ID!) { maskEntry(id: $id) { id } }"
UNMASK = "mutation ($id: ID!) { unmaskEntry(id: $id) { id } }"
DELETE = "mutation ($id: ID!) { deleteEntry(id: $id) }"
GRANT = """mutation ($p: ID!) { grantAccess(practitionerId: $p, sections: [MEDICATIONS]) { __typename } }"""
REVOKE = "mutation ($p: ID!) { revokeAccess(practitionerId: $p) { __typename } }"
BLOCK = "mutation ($p: ID!) { blockPractitioner(practitionerId: $p) { __typename } }"
UNBLOCK = "mutation ($p: ID!) { unblockPractitioner(practitionerId: $p) { __typename } }"
TREATING = "mutation ($p: ID) { setTreatingPhysician(practitionerId: $p) { __typename } }"
EMERGENCY = """mutation { setEmergencyPreferences(allowRegulatorAccess: false, allowBreakGlass: false)
  { __typename } }"""
NOTIFY = "mutation { setNotificationPreferences(notifyNewDocuments: true) { __typename } }"
REASON = "RECORD_PENDING_DELETION"
NEW_ENTRY = {"section": "DOCUMENTS", "title": "Compte rendu", "date": "2026-01-05"}


async def test_every_refused_owner_write_says_the_record_waits_for_its_deletion(
    client: httpx.AsyncClient,
) -> None:
    owner, record = await factories.patient()
    _, pro = await factories.practitioner()
    entry = await factories.entry(record, Section.MEDICATIONS, author=owner)
    await factories.pending_deletion(record)
    before = await Record.get(id=record.id)
    caller = Caller(client, session=await session_for(owner))
    p = {"p": str(pro.id)}
    answers = {
        "addEntry": await caller.gql(ADD, {"input": NEW_ENTRY}),
        "updateEmergencyProfile": await caller.gql(PROFILE, {"input": {"bloodGroup": "A+"}}),
        "maskEntry": await caller.gql(MASK, {"id": str(entry.id)}),
        "unmaskEntry": await caller.gql(UNMASK, {"id": str(entry.id)}),
        "deleteEntry": await caller.gql(DELETE, {"id": str(entry.id)}),
        "grantAccess": await caller.gql(GRANT, p),
        "revokeAccess": await caller.gql(REVOKE, p),
        "blockPractitioner": await caller.gql(BLOCK, p),
        "unblockPractitioner": await caller.gql(UNBLOCK, p),
        "setTreatingPhysician": await caller.gql(TREATING, p),
        "setTreatingPhysician(null)": await caller.gql(TREATING, {"p": None}),
        "setEmergencyPreferences": await caller.gql(EMERGENCY),
        "setNotificationPreferences": await caller.gql(NOTIFY),
        "uploadDocument": await upload(caller, pdf()),
    }
    assert {name: a.codes for name, a in answers.items()} == {name: ["FORBIDDEN"] for name in answers}
    without = [name for name, a in answers.items() if a.errors[0]["extensions"].get("reason") != REASON]
    assert without == []
    # Nothing written: the entry as it was, no new one, no file, no grant or block, the
    # record's preferences unchanged, and no event in the owner's own history.
    entries = await Entry.filter(record_id=record.id)
    assert [(e.id, e.masked) for e in entries] == [(entry.id, False)]
    assert await StoredFile.all().count() == 0
    assert await Grant.filter(record_id=record.id).count() == 0
    assert await BlockedPractitioner.filter(record_id=record.id).count() == 0
    after = await Record.get(id=record.id)
    kept = ("blood_group", "treating_physician_id", "allow_regulator", "allow_break_glass",
            "notify_new_documents", "status")
    assert {k: getattr(after, k) for k in kept} == {k: getattr(before, k) for k in kept}
    assert after.status == RecordStatus.DELETED
    assert await AccessEvent.filter(record_id=record.id).count() == 0


async def test_a_closed_records_owner_gets_no_such_reason(client: httpx.AsyncClient) -> None:
    owner, record = await factories.patient()
    _, pro = await factories.practitioner()
    await Record.filter(id=record.id).update(status=RecordStatus.CLOSED, closed_at=clock.now())
    caller = Caller(client, session=await session_for(owner))
    for answer in (await caller.gql(GRANT, {"p": str(pro.id)}), await caller.gql(NOTIFY)):
        assert answer.codes == ["FORBIDDEN"], answer.errors
        assert "reason" not in answer.errors[0]["extensions"]


async def test_a_practitioners_refusal_on_that_record_is_unchanged(client: httpx.AsyncClient) -> None:
    _, record = await factories.patient()
    doctor, pro = await factories.practitioner()
    await Grant.create(record=record, practitioner=pro, sections=[Section.MEDICATIONS.value])
    await factories.pending_deletion(record)
    caller = Caller(client, session=await session_for(doctor))
    entry = {"section": "MEDICATIONS", "title": "Amoxicilline", "date": "2026-01-05"}
    answers = [
        await caller.gql(ADD, {"input": {"ins": record.ins, **entry}}),
        await caller.gql(PROFILE, {"input": {"ins": record.ins, "bloodGroup": "A+"}}),
        await upload(caller, pdf(), ins=record.ins),
    ]
    for answer in answers:
        assert answer.codes == ["FORBIDDEN"], answer.errors
        assert answer.errors[0]["message"] == "No access to this record"
        assert answer.errors[0]["extensions"] == {"code": "FORBIDDEN"}
    assert await Entry.filter(record_id=record.id).count() == 0
    assert await StoredFile.all().count() == 0


@pytest.mark.parametrize("status", [RecordStatus.CLOSED, RecordStatus.DELETED])
async def test_a_deletion_requested_meanwhile_gives_the_reason_too(
    client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch, status: RecordStatus
) -> None:
    """The record left ACTIVE between the first check and the write: refused as before, with
    the reason only if its deletion was requested (a closing gives none)."""
    owner, record = await factories.patient()
    _, pro = await factories.practitioner()
    caller = Caller(client, session=await session_for(owner))
    left_active_after_the_check(monkeypatch, record, status)
    answers = {}
    writes: list[tuple[str, str, dict[str, Any] | None]] = [
        ("grantAccess", GRANT, {"p": str(pro.id)}),
        ("blockPractitioner", BLOCK, {"p": str(pro.id)}),
        ("setNotificationPreferences", NOTIFY, None),
    ]
    for name, query, variables in writes:
        answers[name] = await caller.gql(query, variables)
        await Record.filter(id=record.id).update(status=RecordStatus.ACTIVE)
    assert {name: a.codes for name, a in answers.items()} == {name: ["FORBIDDEN"] for name in answers}
    expected = REASON if status == RecordStatus.DELETED else None
    assert {name: a.errors[0]["extensions"].get("reason") for name, a in answers.items()} == {
        name: expected for name in answers}
    assert await Grant.filter(record_id=record.id).count() == 0
    assert await BlockedPractitioner.filter(record_id=record.id).count() == 0
    assert (await Record.get(id=record.id)).notify_new_documents is False
    assert await AccessEvent.filter(record_id=record.id).count() == 0
