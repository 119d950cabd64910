"""Writes to a record's content as an adversary tries them: corrections aimed elsewhere, writers
without the right, concurrent changes; each refusal writes nothing, each write one event."""

from __future__ import annotations

import asyncio
import datetime as dt
from typing import Any

import httpx

from backend import clock
from backend.domain.enums import EmergencyKind, Profession, RecordStatus, Section
from backend.models import AccessEvent, Account, EmergencySession, Entry, Grant, Record
from tests import factories
from tests.care_items import ADD_ENTRY
from tests.conftest import Caller, session_for

YESTERDAY = (dt.date.today() - dt.timedelta(days=1)).isoformat()
MASK = "mutation ($id: ID!) { maskEntry(id: $id) { id masked } }"
UNMASK = "mutation ($id: ID!) { unmaskEntry(id: $id) { id masked } }"
DELETE = "mutation ($id: ID!) { deleteEntry(id: $id) }"
PROFILE = ("mutation ($input: EmergencyProfileInput!) {"
           " updateEmergencyProfile(input: $input) { emergencyProfile { bloodGroup } } }")


async def _as(client: httpx.AsyncClient, account: Account) -> Caller:
    return Caller(client, session=await session_for(account))


def _allergy(ins: str | None, **over: Any) -> dict[str, Any]:
    return {"ins": ins, "section": "ALLERGIES", "title": "Pénicilline", "date": YESTERDAY, **over}


async def _events(record: Record) -> list[tuple[str, str | None, list[str]]]:
    rows = await AccessEvent.filter(record_id=record.id).order_by("seq")
    return [(r.action, r.mode, r.sections) for r in rows]


async def test_an_added_entry_is_one_event_and_a_refused_one_none(client: httpx.AsyncClient) -> None:
    """The entry an addEntry returns is in its ENTRY_ADDED event: no second event for
    reading it back; a refusal on the input writes no event and no entry."""
    patient, record = await factories.patient()
    account, practitioner = await factories.practitioner(Profession.INFIRMIER)
    await Grant.create(record=record, practitioner=practitioner, sections=["ALLERGIES"])
    nurse = await _as(client, account)
    (await nurse.gql(ADD_ENTRY, {"input": _allergy(record.ins)})).ok()
    assert await _events(record) == [("ENTRY_ADDED", "GRANTED", ["ALLERGIES"])]
    refused = await nurse.gql(ADD_ENTRY, {"input": _allergy(record.ins, date="1850-01-01")})
    assert refused.errors[0]["extensions"]["reason"] == "DATE_TOO_OLD"
    owner = await _as(client, patient)
    mine = {"section": "VACCINATIONS", "title": "ROR", "date": YESTERDAY}
    (await owner.gql(ADD_ENTRY, {"input": mine})).ok()
    assert await _events(record) == [("ENTRY_ADDED", "GRANTED", ["ALLERGIES"]),
                                      ("ENTRY_ADDED", "OWNER", ["VACCINATIONS"])]
    assert await Entry.filter(record_id=record.id).count() == 2


async def test_corrections_aimed_elsewhere_are_refused_and_write_nothing(client: httpx.AsyncClient) -> None:
    """A correction names an entry of the same record, section and author, current and still
    there: a deleted one, an imported one, the patient's, another section's or an older
    version are refused, and nothing is written."""
    patient, record = await factories.patient()
    doctor, practitioner = await factories.practitioner()
    await Record.filter(id=record.id).update(treating_physician_id=practitioner.id)
    physician = await _as(client, doctor)
    owner = await _as(client, patient)
    own = (await owner.gql(ADD_ENTRY, {"input": {"section": "VACCINATIONS", "title": "ROR",
                                                 "date": YESTERDAY}})).ok()["addEntry"]["entry"]["id"]
    gone = (await owner.gql(ADD_ENTRY, {"input": {"section": "VACCINATIONS", "title": "DTP",
                                                  "date": YESTERDAY}})).ok()["addEntry"]["entry"]["id"]
    (await owner.gql(DELETE, {"id": gone})).ok()
    imported = await factories.entry(record, Section.ALLERGIES, title="imported")
    added = await physician.gql(ADD_ENTRY, {"input": _allergy(record.ins)})
    written = added.ok()["addEntry"]["entry"]["id"]
    entries = await Entry.filter(record_id=record.id).count()
    events = await AccessEvent.filter(record_id=record.id).count()
    cases: list[tuple[Caller, dict[str, Any], str, str | None]] = [
        (owner, {"section": "VACCINATIONS", "title": "x", "date": YESTERDAY, "supersedes": gone},
         "BAD_USER_INPUT", "CORRECTION_UNKNOWN"),
        (physician, _allergy(record.ins, supersedes=str(imported.id)), "FORBIDDEN", None),
        (physician, {"ins": record.ins, "section": "VACCINATIONS", "title": "x", "date": YESTERDAY,
                     "supersedes": own}, "FORBIDDEN", None),
        (physician, {"ins": record.ins, "section": "MEDICAL_HISTORY", "title": "x", "date": YESTERDAY,
                     "supersedes": written}, "BAD_USER_INPUT", "CORRECTION_OTHER_SECTION"),
        (physician, _allergy(record.ins, supersedes="not-an-id"), "BAD_USER_INPUT", "CORRECTION_UNKNOWN"),
    ]
    for caller, data, code, reason in cases:
        result = await caller.gql(ADD_ENTRY, {"input": data})
        assert result.codes == [code], (data, result.errors)
        if reason is not None:
            extensions = result.errors[0]["extensions"]
            assert (extensions["reason"], extensions["field"]) == (reason, "supersedes")
    (await physician.gql(ADD_ENTRY, {"input": _allergy(record.ins, supersedes=written.upper())})).ok()
    older = await physician.gql(ADD_ENTRY, {"input": _allergy(record.ins, supersedes=written)})
    assert older.codes == ["CONFLICT"]
    assert await Entry.filter(record_id=record.id).count() == entries + 1
    assert await AccessEvent.filter(record_id=record.id).count() == events + 1


async def test_writers_without_a_writing_mode_are_refused(client: httpx.AsyncClient) -> None:
    """A regulator's session, a break-glass, a grant of another section, a record pending its
    deletion: refused, each a denied attempt, nothing written."""
    _, record = await factories.patient()
    now = clock.now()
    regulator, regulator_pro = await factories.practitioner(regulator=True)
    await EmergencySession.create(record=record, practitioner=regulator_pro, kind=EmergencyKind.REGULATOR,
                                  reason="appel", opened_at=now, expires_at=now + dt.timedelta(minutes=30))
    nurse, nurse_pro = await factories.practitioner(Profession.INFIRMIER)
    await Grant.create(record=record, practitioner=nurse_pro, sections=["VACCINATIONS"])
    for account in (regulator, nurse):
        caller = await _as(client, account)
        result = await caller.gql(ADD_ENTRY, {"input": _allergy(record.ins)})
        assert result.codes == ["FORBIDDEN"], result.errors
        profile = await caller.gql(PROFILE, {"input": {"ins": record.ins, "bloodGroup": "O-"}})
        assert profile.codes == ["FORBIDDEN"]
    doctor, practitioner = await factories.practitioner()
    await Record.filter(id=record.id).update(treating_physician_id=practitioner.id,
                                             status=RecordStatus.DELETED)
    physician = await _as(client, doctor)
    assert (await physician.gql(ADD_ENTRY, {"input": _allergy(record.ins)})).codes == ["FORBIDDEN"]
    assert (await physician.gql(PROFILE, {"input": {"ins": record.ins, "bloodGroup": "O-"}})).codes == [
        "FORBIDDEN"]
    assert await Entry.filter(record_id=record.id).count() == 0
    assert (await Record.get(id=record.id)).blood_group is None
    actions = await AccessEvent.filter(record_id=record.id).values_list("action", flat=True)
    assert list(actions) == ["ACCESS_DENIED"] * 6


async def test_the_same_masking_sent_at_once_is_one_event(client: httpx.AsyncClient) -> None:
    """Ten maskEntry at once mask once and write one ENTRY_MASKED; ten unmaskEntry likewise."""
    patient, record = await factories.patient()
    v1 = await factories.entry(record, Section.MEDICATIONS, title="v1")
    v2 = await factories.entry(record, Section.MEDICATIONS, title="v2")
    await Entry.filter(id=v1.id).update(superseded=True)
    await Entry.filter(id=v2.id).update(supersedes_id=v1.id)
    owner = await _as(client, patient)
    results = await asyncio.gather(*(owner.gql(MASK, {"id": str(v)}) for v in [v1.id, v2.id] * 5))
    assert all(not r.errors for r in results)
    assert await Entry.filter(record_id=record.id, masked=True).count() == 2
    results = await asyncio.gather(*(owner.gql(UNMASK, {"id": str(v2.id)}) for _ in range(10)))
    assert all(not r.errors for r in results)
    assert await Entry.filter(record_id=record.id, masked=True).count() == 0
    assert [a for a, _, _ in await _events(record)] == ["ENTRY_MASKED", "ENTRY_UNMASKED"]


async def test_a_deletion_and_a_correction_at_once_leave_one_chain(client: httpx.AsyncClient) -> None:
    """The patient deletes an entry while correcting it: either the correction is refused
    (the entry is gone) or it stands alone as the current version; never a version that
    corrects nothing there, or two current ones."""
    patient, record = await factories.patient()
    owner = await _as(client, patient)
    for _ in range(5):
        v1 = (await owner.gql(ADD_ENTRY, {"input": {"section": "LAB_RESULTS", "title": "v1",
                                                    "date": YESTERDAY}})).ok()["addEntry"]["entry"]["id"]
        deleted, corrected = await asyncio.gather(
            owner.gql(DELETE, {"id": v1}),
            owner.gql(ADD_ENTRY, {"input": {"section": "LAB_RESULTS", "title": "v2", "date": YESTERDAY,
                                            "supersedes": v1}}),
        )
        assert deleted.ok() == {"deleteEntry": True}
        rows = await Entry.filter(record_id=record.id)
        if corrected.errors:
            assert corrected.errors[0]["extensions"]["reason"] == "CORRECTION_UNKNOWN"
            assert rows == []
        else:
            assert [(r.title, r.supersedes_id, r.superseded) for r in rows] == [  # type: ignore[attr-defined]
                ("v2", None, False)]
            (await owner.gql(DELETE, {"id": str(rows[0].id)})).ok()


async def test_callers_of_another_kind_change_nothing(client: httpx.AsyncClient) -> None:
    """An insurer's token and a support session write no entry, no mask, no deletion and no
    emergency profile, whatever the record; nothing is written, no event either."""
    from tests.care_items import insurer_token

    patient, record = await factories.patient()
    entry = await factories.entry(record, Section.VACCINATIONS, author=patient)
    callers = [Caller(client, token=await insurer_token()), await _as(client, await factories.support())]
    for caller in callers:
        for query, variables in (
            (ADD_ENTRY, {"input": _allergy(record.ins)}),
            (MASK, {"id": str(entry.id)}), (UNMASK, {"id": str(entry.id)}), (DELETE, {"id": str(entry.id)}),
            ("mutation { maskAllEntries }", {}),
            (PROFILE, {"input": {"ins": record.ins, "bloodGroup": "O-"}}),
        ):
            result = await caller.gql(query, variables)
            assert result.codes == ["FORBIDDEN"], (query, result.errors)
    assert [(e.id, e.masked) for e in await Entry.filter(record_id=record.id)] == [(entry.id, False)]
    assert (await Record.get(id=record.id)).blood_group is None
    assert not await AccessEvent.filter(record_id=record.id).exists()
