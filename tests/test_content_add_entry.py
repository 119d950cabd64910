"""addEntry: who may write where (DESIGN §3 Writing), shapes, and corrections."""

from __future__ import annotations

import asyncio
import datetime as dt
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest

from backend import clock
from backend.domain.enums import EmergencyKind, Profession, RecordStatus
from backend.models import AccessEvent, Account, EmergencySession, Entry, Grant, Record
from tests import factories
from tests.care_items import ADD_ENTRY, cip13, insurer_token
from tests.conftest import Caller, session_for

YESTERDAY = (dt.date.today() - dt.timedelta(days=1)).isoformat()


def medication(ins: str | None, **over: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "ins": ins, "section": "MEDICATIONS", "title": "Metformine 850 mg", "date": YESTERDAY,
        "code": "A10BA02", "medication": {"cip13": cip13(42), "dose": "1 cp matin et soir",
                                          "quantity": 3},
    }
    data.update(over)
    return data


async def _as(client: httpx.AsyncClient, account: Account) -> Caller:
    return Caller(client, session=await session_for(account))


async def _pharmacist_granted(record: Record, sections: list[str]) -> Account:
    account, practitioner = await factories.practitioner(Profession.PHARMACIEN)
    await Grant.create(record=record, practitioner=practitioner, sections=sections)
    return account


async def test_granted_practitioner_adds_an_entry(client: httpx.AsyncClient) -> None:
    _, record = await factories.patient()
    pharmacist = await _pharmacist_granted(record, ["MEDICATIONS"])
    result = await (await _as(client, pharmacist)).gql(ADD_ENTRY, {"input": medication(record.ins)})
    entry = result.ok()["addEntry"]["entry"]
    assert entry["section"] == "MEDICATIONS" and entry["source"] == "PRACTITIONER"
    assert entry["code"] == "A10BA02" and entry["cip13"] == cip13(42) and entry["quantity"] == 3
    assert entry["author"] == {"displayName": pharmacist.display_name, "profession": "pharmacien"}
    assert entry["masked"] is None  # only the owner is told
    stored = await Entry.get(id=entry["id"])
    assert stored.author_id == pharmacist.id  # type: ignore[attr-defined]
    event = await AccessEvent.get(record_id=record.id, action="ENTRY_ADDED")
    assert (event.mode, event.sections, event.entry_id) == ("GRANTED", ["MEDICATIONS"], entry["id"])


async def test_treating_physician_writes_every_section(client: httpx.AsyncClient) -> None:
    _, record = await factories.patient()
    doctor, practitioner = await factories.practitioner()
    await Record.filter(id=record.id).update(treating_physician_id=practitioner.id)
    data = {"ins": record.ins, "section": "MEDICAL_HISTORY", "title": "Diabète de type 2",
            "date": YESTERDAY, "code": "E11.9",
            "medicalHistory": {"condition": "Diabète de type 2", "icd10": "e11.9"}}
    result = await (await _as(client, doctor)).gql(ADD_ENTRY, {"input": data})
    entry = result.ok()["addEntry"]["entry"]
    stored = await Entry.get(id=entry["id"])
    assert stored.details == {"condition": "Diabète de type 2", "icd10": "E11.9"}
    event = await AccessEvent.get(record_id=record.id, action="ENTRY_ADDED")
    assert event.mode == "TREATING_PHYSICIAN"


async def test_refused_writers_write_nothing(client: httpx.AsyncClient) -> None:
    patient, record = await factories.patient()
    stranger, _ = await factories.practitioner()
    pharmacist = await _pharmacist_granted(record, ["MEDICATIONS", "DOCUMENTS"])
    emergency, emergency_pro = await factories.practitioner()
    now = clock.now()
    await EmergencySession.create(record=record, practitioner=emergency_pro,
                                  kind=EmergencyKind.BREAK_GLASS, reason="malaise",
                                  opened_at=now, expires_at=now + dt.timedelta(minutes=60))
    support = await factories.support()
    doc = {"ins": record.ins, "section": "DOCUMENTS", "title": "CR", "date": YESTERDAY}
    cases = [
        (await _as(client, stranger), medication(record.ins)),
        # Granted DOCUMENTS, but a pharmacist may not see DOCUMENTS at all.
        (await _as(client, pharmacist), doc),
        # Break-glass is read-only.
        (await _as(client, emergency), medication(record.ins)),
        (await _as(client, support), medication(record.ins)),
        (Caller(client, token=await insurer_token()), medication(record.ins)),
        # The patient writes only DOCUMENTS, LAB_RESULTS and VACCINATIONS.
        (await _as(client, patient), medication(None)),
        # An unknown INS looks exactly like a record one may not write to.
        (await _as(client, stranger), medication(factories.new_ins())),
    ]
    messages = []
    for caller, data in cases:
        result = await caller.gql(ADD_ENTRY, {"input": data})
        assert result.codes == ["FORBIDDEN"], (data, result.errors)
        messages.append(result.errors[0]["message"])
    # The stranger, with no access at all, reads the same words for the record and the
    # unknown INS; the pharmacist, who sees some sections, is told why.
    assert messages[0] == messages[-1] == "No access to this record"
    assert messages[1] == "You may not add entries to this section"
    assert await Entry.all().count() == 0
    denied = await AccessEvent.filter(record_id=record.id, action="ACCESS_DENIED").count()
    assert denied == 3  # the stranger, the pharmacist, the break-glass practitioner
    anonymous = await Caller(client).gql(ADD_ENTRY, {"input": medication(record.ins)})
    assert anonymous.codes == ["UNAUTHENTICATED"]


async def test_patient_adds_to_their_own_record(client: httpx.AsyncClient) -> None:
    patient, record = await factories.patient()
    data = {"section": "VACCINATIONS", "title": "Rappel DTP", "date": YESTERDAY,
            "vaccination": {"vaccine": "Revaxis", "lot": "X123", "doseNumber": 4}}
    result = await (await _as(client, patient)).gql(ADD_ENTRY, {"input": data})
    entry = result.ok()["addEntry"]["entry"]
    assert entry["source"] == "PATIENT" and entry["masked"] is False
    assert entry["vaccine"] == "Revaxis" and entry["doseNumber"] == 4
    event = await AccessEvent.get(record_id=record.id, action="ENTRY_ADDED")
    assert event.mode == "OWNER" and event.entry_id == entry["id"]
    # Someone else's INS is refused even to a patient.
    _, other = await factories.patient()
    refused = await (await _as(client, patient)).gql(
        ADD_ENTRY, {"input": {**data, "ins": other.ins}})
    assert refused.codes == ["FORBIDDEN"]
    # A closed record takes no new entries.
    await Record.filter(id=record.id).update(status=RecordStatus.CLOSED)
    closed = await (await _as(client, patient)).gql(ADD_ENTRY, {"input": data})
    assert closed.codes == ["FORBIDDEN"]
    assert await Entry.all().count() == 1


async def test_bad_input_writes_nothing(client: httpx.AsyncClient) -> None:
    _, record = await factories.patient()
    doctor, practitioner = await factories.practitioner()
    await Record.filter(id=record.id).update(treating_physician_id=practitioner.id)
    caller = await _as(client, doctor)
    # A day begun nowhere yet (today in UTC+14 is at most tomorrow in UTC).
    future = (dt.date.today() + dt.timedelta(days=2)).isoformat()
    cases = [
        medication(record.ins, code="A10BA0"),
        medication(record.ins, medication={"cip13": "3400930000019"}),
        medication(record.ins, date=future),
        medication(record.ins, title="  "),
        medication(record.ins, medication=None, labResult={"loinc": "2345-7"}),
        medication(record.ins, allergy={"substance": "x"}),
        {"ins": record.ins, "section": "LAB_RESULTS", "title": "K", "date": YESTERDAY,
         "code": "2345-6"},
        {"ins": record.ins, "section": "EMERGENCY", "title": "x", "date": YESTERDAY},
        medication("12345"),
        {"ins": record.ins, "section": "HOSPITAL_STAYS", "title": "Séjour", "date": YESTERDAY,
         "hospitalStay": {"admissionDate": "2024-03-10", "dischargeDate": "2024-03-01"}},
    ]
    for data in cases:
        result = await caller.gql(ADD_ENTRY, {"input": data})
        assert result.codes == ["BAD_USER_INPUT"], (data, result.errors)
    assert await Entry.all().count() == 0


async def test_corrections(client: httpx.AsyncClient) -> None:
    _, record = await factories.patient()
    doctor, practitioner = await factories.practitioner()
    await Record.filter(id=record.id).update(treating_physician_id=practitioner.id)
    caller = await _as(client, doctor)
    first = (await caller.gql(ADD_ENTRY, {"input": medication(record.ins)})).ok()
    first_id = first["addEntry"]["entry"]["id"]
    await Entry.filter(id=first_id).update(masked=True)
    fixed = await caller.gql(ADD_ENTRY, {"input": medication(
        record.ins, supersedes=first_id, title="Metformine 1000 mg")})
    correction = fixed.ok()["addEntry"]["entry"]
    assert correction["supersedes"] == first_id
    old = await Entry.get(id=first_id)
    new = await Entry.get(id=correction["id"])
    assert old.superseded is True and new.masked is True and new.superseded is False
    # Correcting an old version again is a conflict.
    again = await caller.gql(ADD_ENTRY, {"input": medication(record.ins, supersedes=first_id)})
    assert again.codes == ["CONFLICT"]
    # Another section, another author, another record: refused.
    other_section = await caller.gql(ADD_ENTRY, {"input": {
        "ins": record.ins, "section": "DOCUMENTS", "title": "CR", "date": YESTERDAY,
        "supersedes": correction["id"]}})
    assert other_section.codes == ["BAD_USER_INPUT"]
    pharmacist = await _pharmacist_granted(record, ["MEDICATIONS"])
    # A masked entry does not exist for the pharmacist: answered as an unknown id, not as
    # someone else's entry (which would tell it exists).
    masked = await (await _as(client, pharmacist)).gql(
        ADD_ENTRY, {"input": medication(record.ins, supersedes=correction["id"])})
    assert masked.codes == ["BAD_USER_INPUT"]
    assert masked.errors[0]["extensions"]["reason"] == "CORRECTION_UNKNOWN"
    await Entry.filter(id=correction["id"]).update(masked=False)
    not_author = await (await _as(client, pharmacist)).gql(
        ADD_ENTRY, {"input": medication(record.ins, supersedes=correction["id"])})
    assert not_author.codes == ["FORBIDDEN"]
    lab = await factories.entry(record, "LAB_RESULTS", author=doctor)  # type: ignore[arg-type]
    unseen = await (await _as(client, pharmacist)).gql(
        ADD_ENTRY, {"input": medication(record.ins, supersedes=str(lab.id))})
    assert unseen.errors[0]["extensions"]["reason"] == "CORRECTION_UNKNOWN"
    _, other_record = await factories.patient()
    foreign = await factories.entry(other_record, "MEDICATIONS", author=doctor)  # type: ignore[arg-type]
    elsewhere = await caller.gql(ADD_ENTRY, {"input": medication(record.ins, supersedes=str(foreign.id))})
    assert elsewhere.codes == ["BAD_USER_INPUT"]
    assert await Entry.filter(record_id=record.id).count() == 3


async def test_two_concurrent_corrections_one_wins(client: httpx.AsyncClient) -> None:
    _, record = await factories.patient()
    doctor, practitioner = await factories.practitioner()
    await Record.filter(id=record.id).update(treating_physician_id=practitioner.id)
    caller = await _as(client, doctor)
    first = (await caller.gql(ADD_ENTRY, {"input": medication(record.ins)})).ok()
    first_id = first["addEntry"]["entry"]["id"]
    results = await asyncio.gather(*(
        caller.gql(ADD_ENTRY, {"input": medication(record.ins, supersedes=first_id, title=t)})
        for t in ("A", "B")
    ))
    assert sorted(str(r.codes) for r in results) == ["['CONFLICT']", "[]"]
    assert await Entry.filter(record_id=record.id).count() == 2


async def test_the_emergency_section_is_refused_after_the_access_decision(client: httpx.AsyncClient) -> None:
    """Refused before the decision, the emergency section told a stranger that a record
    existed: an existing record without access and an unknown INS now answer alike."""
    _, record = await factories.patient()
    stranger, _ = await factories.practitioner(Profession.INFIRMIER)
    caller = await _as(client, stranger)
    existing = await caller.gql(ADD_ENTRY, {"input": {**medication(record.ins), "section": "EMERGENCY"}})
    unknown = await caller.gql(ADD_ENTRY, {"input": {**medication(factories.new_ins()),
                                                     "section": "EMERGENCY"}})
    assert existing.codes == unknown.codes == ["FORBIDDEN"]
    assert existing.errors[0]["message"] == unknown.errors[0]["message"] == "No access to this record"
    owner = await _as(client, (await Account.get(id=record.owner_id)))  # type: ignore[attr-defined]
    own = await owner.gql(ADD_ENTRY, {"input": {**medication(record.ins), "section": "EMERGENCY"}})
    assert own.errors[0]["extensions"]["reason"] == "EMERGENCY_PROFILE_SEPARATE"
    assert await Entry.filter(record_id=record.id).count() == 0


@pytest.mark.parametrize("change", ["close", "revoke"])
async def test_a_closing_or_revocation_committed_meanwhile_refuses_the_entry(
    client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch, change: str
) -> None:
    """The patient's change commits after the entry's first decision and before it takes the
    record's lock: the decision is taken again under the lock, and nothing is written."""
    from backend.audit.collector import AccessLog

    _, record = await factories.patient()
    pharmacist = await _pharmacist_granted(record, ["MEDICATIONS"])
    changing = AccessLog.changing

    @asynccontextmanager
    async def meanwhile(self: AccessLog, record_id: uuid.UUID) -> AsyncIterator[object]:
        if change == "close":
            await Record.filter(id=record.id).update(status=RecordStatus.CLOSED)
        else:
            await Grant.filter(record_id=record.id).delete()
        async with changing(self, record_id) as conn:
            yield conn

    monkeypatch.setattr(AccessLog, "changing", meanwhile)
    result = await (await _as(client, pharmacist)).gql(ADD_ENTRY, {"input": medication(record.ins)})
    monkeypatch.setattr(AccessLog, "changing", changing)
    assert result.codes == ["FORBIDDEN"]
    assert result.errors[0]["message"] == "No access to this record"
    assert await Entry.filter(record_id=record.id).count() == 0
    actions = await AccessEvent.filter(record_id=record.id).values_list("action", flat=True)
    assert "ENTRY_ADDED" not in actions


async def test_a_date_is_in_the_future_only_once_it_is_tomorrow_everywhere(
    client: httpx.AsyncClient,
) -> None:
    """At 23:30 UTC it is already tomorrow in Paris (and Réunion, Nouméa): that day is a
    user's today, not the future. The day after it is the future everywhere."""
    now = clock.now()
    clock.shift(now.replace(hour=23, minute=30) - now)
    utc_today = clock.now().date()
    _, record = await factories.patient()
    doctor, practitioner = await factories.practitioner()
    await Record.filter(id=record.id).update(treating_physician_id=practitioner.id)
    caller = await _as(client, doctor)
    tomorrow_utc = (utc_today + dt.timedelta(days=1)).isoformat()
    (await caller.gql(ADD_ENTRY, {"input": medication(record.ins, date=tomorrow_utc)})).ok()
    later = (utc_today + dt.timedelta(days=2)).isoformat()
    refused = await caller.gql(ADD_ENTRY, {"input": medication(record.ins, date=later)})
    assert refused.errors[0]["extensions"]["reason"] == "DATE_IN_FUTURE"
    assert await Entry.filter(record_id=record.id).count() == 1


async def test_an_entry_keeps_no_invisible_or_direction_character(client: httpx.AsyncClient) -> None:
    """As a file's or a passkey's name: direction overrides, zero-width and control characters
    are taken out of the title and the free-text details, spaces folded; long text keeps its
    line breaks. A title of invisible characters only is an empty title."""
    _, record = await factories.patient()
    doctor, practitioner = await factories.practitioner()
    await Record.filter(id=record.id).update(treating_physician_id=practitioner.id)
    caller = await _as(client, doctor)
    title = "\u202eRTL\u200b title\u2066\u0007\n  again"
    dose = "1 cp\u200d matin\u202e et soir\t"
    entry = (await caller.gql(ADD_ENTRY, {"input": medication(
        record.ins, title=title, medication={"cip13": cip13(42), "dose": dose})})).ok()["addEntry"]["entry"]
    assert entry["title"] == "RTL title again" and entry["dose"] == "1 cp matin et soir"
    stored = await Entry.get(id=entry["id"])
    assert stored.title == "RTL title again" and stored.details["dose"] == "1 cp matin et soir"
    history = {"ins": record.ins, "section": "MEDICAL_HISTORY", "title": "Diabète", "date": YESTERDAY,
               "medicalHistory": {"condition": "\u202eDiabète", "notes": "ligne 1\u202e\r\nligne\u200b 2"}}
    noted = (await caller.gql(ADD_ENTRY, {"input": history})).ok()["addEntry"]["entry"]
    details = (await Entry.get(id=noted["id"])).details
    assert details == {"condition": "Diabète", "notes": "ligne 1\nligne 2"}
    refused = await caller.gql(ADD_ENTRY, {"input": medication(record.ins, title="\u202e\u200b\u2066")})
    assert refused.codes == ["BAD_USER_INPUT"]
    assert refused.errors[0]["extensions"]["reason"] == "FIELD_REQUIRED"
    assert await Entry.filter(record_id=record.id).count() == 2


async def test_a_refused_write_on_a_pending_record_is_an_event_as_a_read_is(
    client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """DESIGN §4: a denied attempt on an existing record is an event, a pending one's too, as
    patientRecord writes it. It tells nothing: the answer is an unknown INS's, in words and
    in time (both wait for the same floor, errors.NoAccess)."""
    from backend.schema import extensions

    waited: list[float] = []

    async def answer_no_sooner(since: float) -> None:
        waited.append(since)

    monkeypatch.setattr(extensions, "answer_no_sooner", answer_no_sooner)
    doctor, _ = await factories.practitioner()
    caller = await _as(client, doctor)
    ins, unknown_ins = factories.new_ins(), factories.new_ins()
    opened = await caller.gql(
        "mutation($input: OpenRecordInput!) { openRecordForPatient(input: $input) { ins } }",
        {"input": {"ins": ins, "firstName": "Léa", "lastName": "Martin", "birthDate": "1990-04-02"}})
    opened.ok()
    record = await Record.get(ins=ins)
    assert record.status == RecordStatus.PENDING
    profile = ("mutation ($input: EmergencyProfileInput!) {"
               " updateEmergencyProfile(input: $input) { emergencyProfile { bloodGroup } } }")
    for mutation, data in ((ADD_ENTRY, lambda i: {"input": medication(i)}),
                           (profile, lambda i: {"input": {"ins": i, "bloodGroup": "A+"}})):
        pending = await caller.gql(mutation, data(ins))
        unknown = await caller.gql(mutation, data(unknown_ins))
        assert pending.codes == unknown.codes == ["FORBIDDEN"]
        assert pending.errors[0]["message"] == unknown.errors[0]["message"] == "No access to this record"
    assert len(waited) == 4
    denied = await AccessEvent.filter(record_id=record.id, action="ACCESS_DENIED").values_list(
        "actor_id", flat=True)
    assert denied == [str(doctor.id)] * 2
    read = await caller.gql("query($ins: String!) { patientRecord(ins: $ins) { ins } }", {"ins": ins})
    assert read.codes == ["FORBIDDEN"]
    assert await AccessEvent.filter(record_id=record.id, action="ACCESS_DENIED").count() == 3
    assert await Entry.filter(record_id=record.id).count() == 0
    assert (await Record.get(id=record.id)).blood_group is None
