"""maskEntry, unmaskEntry, maskAllEntries and deleteEntry: the owner's own hands."""

from __future__ import annotations

import asyncio

import httpx

from backend.domain.enums import Profession, Section
from backend.models import AccessEvent, Account, Entry, Grant
from tests import factories
from tests.conftest import Caller, session_for

MASK = "mutation ($id: ID!) { maskEntry(id: $id) { id masked } }"
UNMASK = "mutation ($id: ID!) { unmaskEntry(id: $id) { id masked } }"
MASK_ALL = "mutation { maskAllEntries }"
DELETE = "mutation ($id: ID!) { deleteEntry(id: $id) }"
MEDS = """query ($ins: String!) {
  patientRecord(ins: $ins) { medications { totalCount edges { node { id } } } } }"""


async def _as(client: httpx.AsyncClient, account: Account) -> Caller:
    return Caller(client, session=await session_for(account))


async def test_masked_entries_vanish_for_a_granted_practitioner(client: httpx.AsyncClient) -> None:
    patient, record = await factories.patient()
    pharmacist, practitioner = await factories.practitioner(Profession.PHARMACIEN)
    await Grant.create(record=record, practitioner=practitioner, sections=["MEDICATIONS"])
    shown = await factories.entry(record, Section.MEDICATIONS, title="shown")
    hidden = await factories.entry(record, Section.MEDICATIONS, title="hidden")
    owner = await _as(client, patient)
    assert (await owner.gql(MASK, {"id": str(hidden.id)})).ok()["maskEntry"] == {
        "id": str(hidden.id), "masked": True}
    view = (await (await _as(client, pharmacist)).gql(MEDS, {"ins": record.ins})).ok()
    meds = view["patientRecord"]["medications"]
    assert meds["totalCount"] == 1 and meds["edges"] == [{"node": {"id": str(shown.id)}}]
    event = await AccessEvent.get(record_id=record.id, action="ENTRY_MASKED")
    assert event.entry_id == str(hidden.id) and event.mode == "OWNER"
    assert (await owner.gql(UNMASK, {"id": str(hidden.id)})).ok()["unmaskEntry"]["masked"] is False
    assert await AccessEvent.filter(record_id=record.id, action="ENTRY_UNMASKED").count() == 1
    assert (await Entry.get(id=hidden.id)).masked is False


async def test_masking_covers_every_version(client: httpx.AsyncClient) -> None:
    patient, record = await factories.patient()
    old = await factories.entry(record, Section.LAB_RESULTS, title="v1")
    new = await factories.entry(record, Section.LAB_RESULTS, title="v2")
    await Entry.filter(id=old.id).update(superseded=True)
    await Entry.filter(id=new.id).update(supersedes_id=old.id)
    (await (await _as(client, patient)).gql(MASK, {"id": str(new.id)})).ok()
    assert await Entry.filter(record_id=record.id, masked=True).count() == 2


async def test_mask_all(client: httpx.AsyncClient) -> None:
    patient, record = await factories.patient()
    await factories.entry(record, Section.MEDICATIONS)
    await factories.entry(record, Section.ALLERGIES)
    await factories.entry(record, Section.ALLERGIES, masked=True)
    result = await (await _as(client, patient)).gql(MASK_ALL)
    assert result.ok() == {"maskAllEntries": 2}
    assert await Entry.filter(record_id=record.id, masked=False).count() == 0
    event = await AccessEvent.get(record_id=record.id, action="ENTRY_MASKED")
    assert sorted(event.sections) == ["ALLERGIES", "MEDICATIONS"]


async def test_only_the_owner_masks_and_no_oracle_across_records(client: httpx.AsyncClient) -> None:
    patient, record = await factories.patient()
    _, other_record = await factories.patient()
    doctor, _ = await factories.practitioner()
    mine = await factories.entry(record, Section.MEDICATIONS)
    theirs = await factories.entry(other_record, Section.MEDICATIONS)
    owner = await _as(client, patient)
    for query in (MASK, UNMASK, DELETE):
        assert (await owner.gql(query, {"id": str(theirs.id)})).codes == ["NOT_FOUND"]
        assert (await owner.gql(query, {"id": "not-an-id"})).codes == ["NOT_FOUND"]
        assert (await (await _as(client, doctor)).gql(query, {"id": str(mine.id)})).codes == [
            "FORBIDDEN"]
    assert (await (await _as(client, doctor)).gql(MASK_ALL)).codes == ["FORBIDDEN"]
    assert await Entry.filter(masked=True).count() == 0
    assert await Entry.all().count() == 2
    assert await AccessEvent.all().count() == 0


async def test_delete_what_the_patient_authored(client: httpx.AsyncClient) -> None:
    patient, record = await factories.patient()
    doctor, _ = await factories.practitioner()
    by_doctor = await factories.entry(record, Section.DOCUMENTS, author=doctor)
    v1 = await factories.entry(record, Section.DOCUMENTS, author=patient, title="v1")
    v2 = await factories.entry(record, Section.DOCUMENTS, author=patient, title="v2")
    await Entry.filter(id=v1.id).update(superseded=True)
    await Entry.filter(id=v2.id).update(supersedes_id=v1.id)
    owner = await _as(client, patient)
    refused = await owner.gql(DELETE, {"id": str(by_doctor.id)})
    assert refused.codes == ["FORBIDDEN"]
    assert await Entry.filter(id=by_doctor.id).exists()
    assert (await owner.gql(DELETE, {"id": str(v2.id)})).ok() == {"deleteEntry": True}
    assert not await Entry.filter(id=v2.id).exists()
    # The version it corrected is current again.
    assert (await Entry.get(id=v1.id)).superseded is False
    event = await AccessEvent.get(record_id=record.id, action="ENTRY_DELETED")
    assert event.entry_id == str(v2.id) and event.sections == ["DOCUMENTS"]


async def test_an_entry_deleted_twenty_times_at_once_is_deleted_once(client: httpx.AsyncClient) -> None:
    """One request removes the row, answers true and writes the event; the others answer as
    for an entry that no longer exists, and write nothing."""
    patient, record = await factories.patient()
    entry = await factories.entry(record, Section.DOCUMENTS, author=patient)
    owner = await _as(client, patient)
    results = await asyncio.gather(*(owner.gql(DELETE, {"id": str(entry.id)}) for _ in range(20)))
    assert sorted(str(r.codes) for r in results) == ["['NOT_FOUND']"] * 19 + ["[]"]
    assert [r.data for r in results if not r.errors] == [{"deleteEntry": True}]
    assert not await Entry.filter(id=entry.id).exists()
    assert await AccessEvent.filter(record_id=record.id, action="ENTRY_DELETED").count() == 1


DOCS = """{ myRecord { documents(includeSuperseded: true) {
  edges { node { id title supersedes superseded } } } } }"""
CURRENT_DOCS = "{ myRecord { documents { edges { node { id } } } } }"


async def test_deleting_a_version_keeps_the_others_one_chain(client: httpx.AsyncClient) -> None:
    """v1, corrected by v2, corrected by v3: deleting v2 leaves v3 correcting v1; deleting v3
    then makes v1 current again, shown and correctable."""
    from tests.care_items import ADD_ENTRY

    patient, record = await factories.patient()
    owner = await _as(client, patient)

    async def add(title: str, supersedes: str | None = None) -> str:
        data = {"section": "DOCUMENTS", "title": title, "date": "2024-03-01", "supersedes": supersedes}
        return str((await owner.gql(ADD_ENTRY, {"input": data})).ok()["addEntry"]["entry"]["id"])

    async def versions() -> dict[str, tuple[str | None, bool]]:
        edges = (await owner.gql(DOCS)).ok()["myRecord"]["documents"]["edges"]
        return {e["node"]["title"]: (e["node"]["supersedes"], e["node"]["superseded"]) for e in edges}

    async def current() -> list[str]:
        edges = (await owner.gql(CURRENT_DOCS)).ok()["myRecord"]["documents"]["edges"]
        return [e["node"]["id"] for e in edges]

    v1 = await add("v1")
    v2 = await add("v2", v1)
    v3 = await add("v3", v2)
    assert (await owner.gql(DELETE, {"id": v2})).ok() == {"deleteEntry": True}
    assert await versions() == {"v1": (None, True), "v3": (v1, False)}
    assert await current() == [v3]
    assert (await owner.gql(DELETE, {"id": v3})).ok() == {"deleteEntry": True}
    assert await versions() == {"v1": (None, False)}
    assert await current() == [v1]
    v4 = await add("v4", v1)
    assert await versions() == {"v1": (None, True), "v4": (v1, False)}
    # Deleting the first version: the next one corrects nothing any more, and stays current.
    assert (await owner.gql(DELETE, {"id": v1})).ok() == {"deleteEntry": True}
    assert await versions() == {"v4": (None, False)}
    assert await current() == [v4]
    deleted = await AccessEvent.filter(record_id=record.id, action="ENTRY_DELETED").values_list(
        "entry_id", flat=True)
    assert sorted(deleted) == sorted([v2, v3, v1])


async def test_a_version_the_patient_did_not_author_stays(client: httpx.AsyncClient) -> None:
    """The patient deletes only the versions they authored: a practitioner's correction chain
    is refused at every version, and left as it was."""
    patient, record = await factories.patient()
    doctor, _ = await factories.practitioner()
    v1 = await factories.entry(record, Section.DOCUMENTS, author=doctor, title="v1")
    v2 = await factories.entry(record, Section.DOCUMENTS, author=doctor, title="v2")
    await Entry.filter(id=v1.id).update(superseded=True)
    await Entry.filter(id=v2.id).update(supersedes_id=v1.id)
    owner = await _as(client, patient)
    for entry in (v1, v2):
        assert (await owner.gql(DELETE, {"id": str(entry.id)})).codes == ["FORBIDDEN"]
    rows = {e.title: (e.supersedes_id, e.superseded) for e in await Entry.filter(record_id=record.id)}  # type: ignore[attr-defined]
    assert rows == {"v1": (None, True), "v2": (v1.id, False)}
    assert not await AccessEvent.filter(record_id=record.id).exists()
