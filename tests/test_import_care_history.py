"""importCareHistory: the insurer's idempotent, per-item validated care-history import."""

from __future__ import annotations

import asyncio
import datetime as dt
import json

import httpx
import pytest

from backend.domain.enums import RecordStatus
from backend.models import AccessEvent, ActivationCode, Entry, ImportKey, OutboxMessage, Record
from tests import factories
from tests.care_items import IMPORT, INSURER, QueryCounter, insurer_token, medication_item
from tests.conftest import Caller, session_for


async def _insurer(client: httpx.AsyncClient) -> Caller:
    return Caller(client, token=await insurer_token())


async def test_import_creates_entries_and_notes_one_event_per_record(
    client: httpx.AsyncClient,
) -> None:
    _, record = await factories.patient()
    insurer = await _insurer(client)
    items = [medication_item(record.ins, n, birthDate="1985-06-12") for n in range(3)]
    items.append({**medication_item(record.ins, 9), "section": "LAB_RESULTS", "code": "2345-7",
                  "externalId": "LAB-1", "title": "Glycémie",
                  "details": {"analyte": "Glucose", "value": "5.4", "unit": "mmol/L",
                              "abnormal": False}})
    payload = (await insurer.gql(IMPORT, {"items": items})).ok()["importCareHistory"]
    assert payload == {"accepted": 4, "created": 4, "corrected": 0, "unchanged": 0, "rejected": []}
    entries = await Entry.filter(record_id=record.id).order_by("external_id")
    assert [e.external_id for e in entries] == ["LAB-1", "MED-0", "MED-1", "MED-2"]
    assert all(e.source == "INSURER" and e.organization == INSURER for e in entries)
    assert entries[0].details == {"analyte": "Glucose", "value": "5.4", "unit": "mmol/L",
                                  "abnormal": False}
    assert await ImportKey.filter(record_id=record.id).count() == 4
    events = await AccessEvent.filter(record_id=record.id, action="ENTRIES_IMPORTED")
    assert len(events) == 1
    assert events[0].mode == "INSURER"
    assert sorted(events[0].sections) == ["LAB_RESULTS", "MEDICATIONS"]


async def test_reimport_changes_nothing(client: httpx.AsyncClient) -> None:
    _, record = await factories.patient()
    insurer = await _insurer(client)
    items = [medication_item(record.ins, n) for n in range(5)]
    (await insurer.gql(IMPORT, {"items": items})).ok()
    events_before = await AccessEvent.filter(record_id=record.id).count()
    again = (await insurer.gql(IMPORT, {"items": items})).ok()["importCareHistory"]
    assert again == {"accepted": 5, "created": 0, "corrected": 0, "unchanged": 5, "rejected": []}
    assert await Entry.filter(record_id=record.id).count() == 5
    assert await AccessEvent.filter(record_id=record.id).count() == events_before


async def test_changed_content_is_a_correction_and_keeps_the_mask(client: httpx.AsyncClient) -> None:
    account, record = await factories.patient()
    insurer = await _insurer(client)
    (await insurer.gql(IMPORT, {"items": [medication_item(record.ins, 1)]})).ok()
    original = await Entry.get(record_id=record.id, external_id="MED-1")
    await Entry.filter(id=original.id).update(masked=True)
    changed = medication_item(record.ins, 1, title="Doliprane 500 mg")
    payload = (await insurer.gql(IMPORT, {"items": [changed]})).ok()["importCareHistory"]
    assert payload["corrected"] == 1 and payload["created"] == 0
    await original.refresh_from_db()
    assert original.superseded is True
    correction = await Entry.get(record_id=record.id, supersedes_id=original.id)
    assert correction.title == "Doliprane 500 mg"
    assert correction.masked is True and correction.superseded is False
    key = await ImportKey.get(record_id=record.id, external_id="MED-1")
    assert key.entry_id == correction.id  # type: ignore[attr-defined]
    # The owner sees the current version only, unless asking for the history.
    owner = Caller(client, session=await session_for(account))
    data = (await owner.gql(
        "{ myRecord { medications { edges { node { title masked } } } "
        "all: medications(includeSuperseded: true) { totalCount } } }"
    )).ok()
    assert [e["node"] for e in data["myRecord"]["medications"]["edges"]] == [
        {"title": "Doliprane 500 mg", "masked": True}
    ]
    assert data["myRecord"]["all"]["totalCount"] == 2


async def test_per_item_rejections_write_only_the_valid_items(client: httpx.AsyncClient) -> None:
    _, record = await factories.patient()
    _, other = await factories.patient()
    insurer = await _insurer(client)
    # A day begun nowhere yet (today in UTC+14 is at most tomorrow in UTC).
    future = (dt.date.today() + dt.timedelta(days=2)).isoformat()
    items = [
        medication_item(record.ins, 1),
        medication_item("185057500000199", 2),  # bad INS key
        medication_item(record.ins, 3, section="ALLERGIES"),
        medication_item(record.ins, 4, code="3400930000019"),  # bad EAN-13 check digit
        medication_item(record.ins, 5, date=future),
        medication_item(record.ins, 6, details={"colour": "red"}),
        medication_item(record.ins, 7, details={"quantity": "two"}),
        {**medication_item(record.ins, 8), "section": "LAB_RESULTS", "code": "2345-6",
         "details": {}},
        medication_item(record.ins, 1, title="Doliprane 500 mg"),  # twice, with other content
        medication_item(other.ins, 10, birthDate="1990-01-01"),  # not this patient
    ]
    payload = (await insurer.gql(IMPORT, {"items": items})).ok()["importCareHistory"]
    assert payload["accepted"] == 1 and payload["created"] == 1
    rejected = {r["index"]: r["code"] for r in payload["rejected"]}
    assert rejected == {1: "BAD_USER_INPUT", 2: "BAD_USER_INPUT", 3: "BAD_USER_INPUT",
                        4: "BAD_USER_INPUT", 5: "BAD_USER_INPUT", 6: "BAD_USER_INPUT",
                        7: "BAD_USER_INPUT", 8: "CONFLICT", 9: "BAD_USER_INPUT"}
    assert [r["externalId"] for r in payload["rejected"]][:2] == ["MED-2", "MED-3"]
    assert await Entry.filter(record_id=record.id).values_list("external_id", flat=True) == ["MED-1"]


async def test_unknown_ins_opens_a_pending_record_and_sends_the_code(
    client: httpx.AsyncClient,
) -> None:
    insurer = await _insurer(client)
    ins = factories.new_ins()
    item = medication_item(ins, 1, firstName="Jeanne", lastName="Dupont",
                           contactEmail="jeanne@example.org")
    (await insurer.gql(IMPORT, {"items": [item]})).ok()
    record = await Record.get(ins=ins)
    assert record.status == RecordStatus.PENDING
    assert (record.first_name, record.last_name, record.birth_date) == (
        "Jeanne", "Dupont", dt.date(1985, 6, 12))
    assert await ActivationCode.filter(record_id=record.id, used_at=None).count() == 1
    mail = await OutboxMessage.get(record_id=record.id)
    assert mail.recipient == "jeanne@example.org"
    assert await Entry.filter(record_id=record.id).count() == 1
    event = await AccessEvent.get(record_id=record.id)
    assert (event.action, event.mode, event.sections) == ("ENTRIES_IMPORTED", "INSURER",
                                                          ["MEDICATIONS"])
    assert "opened" in event.reason
    # Without a contact, the record is opened all the same, and no mail leaves.
    other = factories.new_ins()
    (await insurer.gql(IMPORT, {"items": [medication_item(other, 2)]})).ok()
    opened = await Record.get(ins=other)
    assert await OutboxMessage.filter(record_id=opened.id).count() == 0


@pytest.mark.parametrize("status", [RecordStatus.CLOSED, RecordStatus.DELETED])
async def test_closed_and_deleted_records_refuse_items(
    client: httpx.AsyncClient, status: RecordStatus
) -> None:
    _, record = await factories.patient()
    _, open_record = await factories.patient()
    await Record.filter(id=record.id).update(status=status)
    insurer = await _insurer(client)
    items = [medication_item(record.ins, 1), medication_item(open_record.ins, 2)]
    payload = (await insurer.gql(IMPORT, {"items": items})).ok()["importCareHistory"]
    assert payload["created"] == 1
    assert payload["rejected"] == [{"index": 0, "externalId": "MED-1", "code": "FORBIDDEN",
                                    "message": "The record is closed or deleted"}]
    assert await Entry.filter(record_id=record.id).count() == 0


async def test_only_an_insurer_import_token_may_import(client: httpx.AsyncClient) -> None:
    account, record = await factories.patient()
    doctor, _ = await factories.practitioner()
    items = [medication_item(record.ins, 1)]
    anonymous = await Caller(client).gql(IMPORT, {"items": items})
    assert anonymous.codes == ["UNAUTHENTICATED"]
    for caller in (Caller(client, session=await session_for(account)),
                   Caller(client, session=await session_for(doctor))):
        result = await caller.gql(IMPORT, {"items": items})
        assert result.codes == ["FORBIDDEN"]
    assert await Entry.all().count() == 0


async def test_batch_limit(client: httpx.AsyncClient) -> None:
    _, record = await factories.patient()
    insurer = await _insurer(client)
    too_many = [medication_item(record.ins, n) for n in range(5001)]
    refused = await insurer.gql(IMPORT, {"items": too_many})
    assert refused.codes == ["BAD_USER_INPUT"]
    assert await Entry.all().count() == 0
    payload = (await insurer.gql(IMPORT, {"items": too_many[:5000]})).ok()["importCareHistory"]
    assert payload["created"] == 5000 and payload["rejected"] == []
    assert await Entry.filter(record_id=record.id).count() == 5000
    assert await ImportKey.filter(record_id=record.id).count() == 5000


async def test_concurrent_overlapping_imports_create_no_duplicate(
    client: httpx.AsyncClient,
) -> None:
    patients = [await factories.patient() for _ in range(3)]
    insurer = await _insurer(client)
    new_ins = factories.new_ins()
    first = [medication_item(r.ins, n) for _, r in patients for n in range(0, 60)]
    second = [medication_item(r.ins, n) for _, r in patients for n in range(30, 90)]
    first.append(medication_item(new_ins, 1))
    second.append(medication_item(new_ins, 1))
    a, b = await asyncio.gather(insurer.gql(IMPORT, {"items": first}),
                                insurer.gql(IMPORT, {"items": second}))
    pa, pb = a.ok()["importCareHistory"], b.ok()["importCareHistory"]
    assert pa["created"] + pb["created"] == 3 * 90 + 1
    assert pa["unchanged"] + pb["unchanged"] == 3 * 30 + 1
    for _, record in patients:
        assert await Entry.filter(record_id=record.id).count() == 90
    assert await Record.filter(ins=new_ins).count() == 1
    assert await Entry.filter(record__ins=new_ins).count() == 1


async def test_query_count_does_not_grow_with_the_batch(client: httpx.AsyncClient) -> None:
    _, small_record = await factories.patient()
    _, large_record = await factories.patient()
    insurer = await _insurer(client)
    (await insurer.gql(IMPORT, {"items": []})).ok()  # the token's first use is noted once
    with QueryCounter() as small:
        (await insurer.gql(IMPORT, {"items": [medication_item(small_record.ins, n)
                                              for n in range(10)]})).ok()
    with QueryCounter() as large:
        (await insurer.gql(IMPORT, {"items": [medication_item(large_record.ins, n)
                                              for n in range(1000)]})).ok()
    assert 0 < large.count == small.count <= 20, (small.count, large.count)
    assert await Entry.filter(record_id=large_record.id).count() == 1000


async def test_optional_fields_may_be_left_out(client: httpx.AsyncClient) -> None:
    _, record = await factories.patient()
    insurer = await _insurer(client)
    stay = {"ins": record.ins, "firstName": "Alice", "lastName": "Martin",
            "birthDate": "1985-06-12", "externalId": "HOSP-1", "section": "HOSPITAL_STAYS",
            "title": "Séjour en chirurgie", "date": "2024-03-01"}
    device = {**stay, "externalId": "LPP-1", "section": "MEDICAL_DEVICES", "title": "Attelle"}
    payload = (await insurer.gql(IMPORT, {"items": [stay, device]})).ok()["importCareHistory"]
    assert payload["created"] == 1
    assert payload["rejected"] == [{"index": 1, "externalId": "LPP-1", "code": "BAD_USER_INPUT",
                                    "message": "a MEDICAL_DEVICES item needs a code"}]
    entry = await Entry.get(record_id=record.id)
    assert (entry.section, entry.code, entry.details) == ("HOSPITAL_STAYS", "", {})


async def test_concurrent_corrections_of_one_item_leave_one_current_version(
    client: httpx.AsyncClient,
) -> None:
    _, record = await factories.patient()
    insurer = await _insurer(client)
    (await insurer.gql(IMPORT, {"items": [medication_item(record.ins, 1)]})).ok()
    a, b = await asyncio.gather(
        insurer.gql(IMPORT, {"items": [medication_item(record.ins, 1, title="Version A")]}),
        insurer.gql(IMPORT, {"items": [medication_item(record.ins, 1, title="Version B")]}),
    )
    assert a.ok()["importCareHistory"]["corrected"] + b.ok()["importCareHistory"]["corrected"] == 2
    versions = await Entry.filter(record_id=record.id, external_id="MED-1")
    assert len(versions) == 3
    current = [e for e in versions if not e.superseded]
    assert len(current) == 1 and current[0].title in ("Version A", "Version B")
    key = await ImportKey.get(record_id=record.id, external_id="MED-1")
    assert key.entry_id == current[0].id  # type: ignore[attr-defined]
    # Each version supersedes the one before: a chain, not a fork.
    assert len({e.supersedes_id for e in versions}) == 3  # type: ignore[attr-defined]


async def test_many_concurrent_corrections_of_one_item_all_succeed(client: httpx.AsyncClient) -> None:
    """Each correction waits for the one before it to commit, and corrects what it committed:
    none is refused as a whole with CONFLICT (DESIGN §6: failures are per item)."""
    _, record = await factories.patient()
    insurer = await _insurer(client)
    (await insurer.gql(IMPORT, {"items": [medication_item(record.ins, 1)]})).ok()
    answers = await asyncio.gather(*(
        insurer.gql(IMPORT, {"items": [medication_item(record.ins, 1, title=f"Version {n}"),
                                       medication_item(record.ins, 100 + n)]})
        for n in range(8)
    ))
    payloads = [answer.ok()["importCareHistory"] for answer in answers]
    assert [(p["corrected"], p["created"], p["rejected"]) for p in payloads] == [(1, 1, [])] * 8
    versions = await Entry.filter(record_id=record.id, external_id="MED-1")
    assert len(versions) == 9
    current = [e for e in versions if not e.superseded]
    assert len(current) == 1
    key = await ImportKey.get(record_id=record.id, external_id="MED-1")
    assert key.entry_id == current[0].id  # type: ignore[attr-defined]
    assert len({e.supersedes_id for e in versions}) == 9  # type: ignore[attr-defined]


async def test_a_correction_cannot_move_an_item_to_another_section(client: httpx.AsyncClient) -> None:
    """A re-import under another section would take the entry out of its section: refused per
    item, as addEntry refuses it (CORRECTION_OTHER_SECTION), and nothing is written for it."""
    _, record = await factories.patient()
    insurer = await _insurer(client)
    (await insurer.gql(IMPORT, {"items": [medication_item(record.ins, 1)]})).ok()
    seq = (await Record.get(id=record.id)).event_seq
    moved = {**medication_item(record.ins, 1), "section": "PROCEDURES", "code": "YYYY600",
             "title": "Acte", "details": {"ccamCode": "YYYY600"}}
    payload = (await insurer.gql(IMPORT, {"items": [moved, medication_item(record.ins, 2)]})
               ).ok()["importCareHistory"]
    assert (payload["created"], payload["corrected"], payload["unchanged"]) == (1, 0, 0)
    assert [(r["index"], r["externalId"], r["code"]) for r in payload["rejected"]] == [
        (0, "MED-1", "BAD_USER_INPUT")]
    assert "MEDICATIONS" in payload["rejected"][0]["message"]
    assert "section" in payload["rejected"][0]["message"]
    versions = await Entry.filter(record_id=record.id, external_id="MED-1")
    assert [(v.section, v.superseded) for v in versions] == [("MEDICATIONS", False)]
    key = await ImportKey.get(record_id=record.id, external_id="MED-1")
    assert key.entry_id == versions[0].id  # type: ignore[attr-defined]
    event = await AccessEvent.get(record_id=record.id, seq=seq + 1)
    assert event.sections == ["MEDICATIONS"]  # MED-2's section only
    # A correction in the item's own section still goes through.
    same = medication_item(record.ins, 1, title="Doliprane 500 mg")
    again = (await insurer.gql(IMPORT, {"items": [same]})).ok()["importCareHistory"]
    assert (again["corrected"], again["rejected"]) == (1, [])


async def test_a_nul_or_a_lone_surrogate_in_an_item_is_rejected_for_that_item_alone(
    client: httpx.AsyncClient,
) -> None:
    """Batch mutations report a bad item in their payload, not as a request error (DESIGN
    §6): text that other requests see refused whole is checked here item by item."""
    _, record = await factories.patient()
    insurer = await _insurer(client)
    items = [
        medication_item(record.ins, 1),
        medication_item(record.ins, 2, title="Doli\x00prane"),
        medication_item(record.ins, 3, title="Doli\ud800prane"),
    ]
    # Escaped as JSON allows (\u0000, \ud800); httpx would not encode a lone surrogate.
    body = json.dumps({"query": IMPORT, "variables": {"items": items}})
    response = await client.post("/graphql", content=body, headers={
        **insurer.headers(), "content-type": "application/json"})
    assert response.status_code == 200
    payload = response.json()["data"]["importCareHistory"]
    assert payload["created"] == 1
    assert [(r["index"], r["code"]) for r in payload["rejected"]] == [(1, "BAD_USER_INPUT"),
                                                                      (2, "BAD_USER_INPUT")]
    assert await Entry.filter(record_id=record.id).count() == 1
    # Any other mutation with such text is still refused whole, before it runs.
    other = json.dumps({"query": "mutation($t: String!) { addEntry(input: {ins: \"x\", section: "
                        "ALLERGIES, title: $t, date: \"2024-01-01\"}) { entry { id } } }",
                        "variables": {"t": "a\x00b"}})
    refused = await client.post("/graphql", content=other, headers={
        **insurer.headers(), "content-type": "application/json"})
    assert refused.status_code == 400


async def test_imported_text_keeps_no_invisible_or_direction_character(client: httpx.AsyncClient) -> None:
    """As addEntry keeps its text, without changing the hash of the items imported before:
    a batch sent again is unchanged."""
    insurer = Caller(client, token=await insurer_token())
    ins = factories.new_ins()
    items = [medication_item(ins, 1, title="\u202eDoliprane 1000 mg", firstName="Al\u200bice",
                             lastName="Mar\u2066tin")]
    first = (await insurer.gql(IMPORT, {"items": items})).ok()["importCareHistory"]
    assert first["created"] == 1
    record = await Record.get(ins=ins)
    assert (record.first_name, record.last_name) == ("Alice", "Martin")
    assert (await Entry.get(record_id=record.id)).title == "Doliprane 1000 mg"
    again = (await insurer.gql(IMPORT, {"items": items})).ok()["importCareHistory"]
    assert again["unchanged"] == 1 and again["created"] == again["corrected"] == 0
    plain = [medication_item(ins, 1, title="Doliprane 1000 mg")]
    assert (await insurer.gql(IMPORT, {"items": plain})).ok()["importCareHistory"]["unchanged"] == 1


async def test_a_stay_before_the_patients_birth_is_rejected_alone(client: httpx.AsyncClient) -> None:
    """A stay's dates lie between the patient's birth and today, as addEntry checks them."""
    _, record = await factories.patient()
    insurer = await _insurer(client)
    stay = {"ins": record.ins, "firstName": "Alice", "lastName": "Martin",
            "birthDate": "1985-06-12", "externalId": "HOSP-1", "section": "HOSPITAL_STAYS",
            "title": "Séjour en chirurgie", "date": "2024-03-01",
            "details": {"admissionDate": "1980-01-02", "dischargeDate": "2024-03-05"}}
    kept = {**stay, "externalId": "HOSP-2", "details": {"admissionDate": "2024-03-01"}}
    payload = (await insurer.gql(IMPORT, {"items": [stay, kept]})).ok()["importCareHistory"]
    assert payload["created"] == 1
    assert [(r["index"], r["code"]) for r in payload["rejected"]] == [(0, "BAD_USER_INPUT")]
    assert "admissionDate" in payload["rejected"][0]["message"]
    assert [e.external_id for e in await Entry.filter(record_id=record.id)] == ["HOSP-2"]
