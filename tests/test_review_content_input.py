"""addEntry's input as an adversary sends it: codes, dates, counts and text it must not keep."""

from __future__ import annotations

import datetime as dt
from typing import Any

import httpx

from backend.models import AccessEvent, Account, Entry, Record
from tests import factories
from tests.care_items import ADD_ENTRY, IMPORT, insurer_token, medication_item
from tests.conftest import Caller, session_for

YESTERDAY = (dt.date.today() - dt.timedelta(days=1)).isoformat()


async def _treating_physician(client: httpx.AsyncClient) -> tuple[Caller, Record]:
    _, record = await factories.patient()  # born 1985-06-12
    doctor, practitioner = await factories.practitioner()
    await Record.filter(id=record.id).update(treating_physician_id=practitioner.id)
    return Caller(client, session=await session_for(doctor)), record


def _entry(record: Record, section: str, **over: Any) -> dict[str, Any]:
    return {"ins": record.ins, "section": section, "title": "Entrée", "date": YESTERDAY, **over}


async def _refused(caller: Caller, data: dict[str, Any]) -> dict[str, Any]:
    result = await caller.gql(ADD_ENTRY, {"input": data})
    assert result.codes == ["BAD_USER_INPUT"], (data, result.errors)
    extensions: dict[str, Any] = result.errors[0]["extensions"]
    return {**extensions, "message": result.errors[0]["message"]}


async def test_a_free_text_code_keeps_no_invisible_or_direction_character(client: httpx.AsyncClient) -> None:
    """The sections without a coding system take a free-text code: it shows beside the title,
    so it is kept as the title is, on one line, without a direction override, a zero-width or
    a control character; 64 characters once so cleaned."""
    caller, record = await _treating_physician(client)
    added = await caller.gql(ADD_ENTRY, {"input": _entry(
        record, "ALLERGIES", code="\u202eAMOX\u200b-\u2066PEN\u0007\n\tI")})
    assert added.ok()["addEntry"]["entry"]["code"] == "AMOX-PEN I"
    assert [e.code for e in await Entry.filter(record_id=record.id)] == ["AMOX-PEN I"]
    # Invisible characters do not count towards the limit; visible ones past it are refused.
    long_code = "V" * 64 + "\u200b" * 10
    kept = await caller.gql(ADD_ENTRY, {"input": _entry(record, "VACCINATIONS", code=long_code)})
    assert kept.ok()["addEntry"]["entry"]["code"] == "V" * 64
    refused = await _refused(caller, _entry(record, "DOCUMENTS", code="D" * 65))
    assert (refused["reason"], refused["field"], refused["max"]) == ("FIELD_TOO_LONG", "code", 64)
    assert await Entry.filter(record_id=record.id).count() == 2


async def test_a_stays_dates_lie_between_the_patients_birth_and_today(client: httpx.AsyncClient) -> None:
    """As the entry's own date: a hospital stay's admission or discharge before 1900 or before
    the patient was born is refused, naming the detail; nothing is written."""
    caller, record = await _treating_physician(client)
    cases = [
        ({"admissionDate": "1850-01-01"}, "DATE_TOO_OLD", "details.admissionDate"),
        ({"admissionDate": "1984-01-01", "dischargeDate": "1984-01-05"}, "DATE_BEFORE_BIRTH",
         "details.admissionDate"),
        ({"dischargeDate": "1899-12-31"}, "DATE_TOO_OLD", "details.dischargeDate"),
        ({"admissionDate": "2024-03-10", "dischargeDate": "2024-03-01"}, "DATES_REVERSED",
         "details.dischargeDate"),
    ]
    for stay, reason, field in cases:
        refused = await _refused(caller, _entry(record, "HOSPITAL_STAYS", hospitalStay=stay))
        assert (refused["reason"], refused["field"]) == (reason, field), stay
    born = await _refused(caller, _entry(record, "ALLERGIES", date="1985-06-11"))
    assert (born["reason"], born["field"]) == ("DATE_BEFORE_BIRTH", "date")
    assert await Entry.filter(record_id=record.id).count() == 0
    assert not await AccessEvent.filter(record_id=record.id).exists()
    # The day of birth itself is a stay's first day.
    stay = {"admissionDate": "1985-06-12", "dischargeDate": "1985-06-16"}
    (await caller.gql(ADD_ENTRY, {"input": _entry(record, "HOSPITAL_STAYS", hospitalStay=stay)})).ok()


async def test_a_refused_code_is_not_quoted_back(client: httpx.AsyncClient) -> None:
    """A code names a medicine, an act or a result: a refusal says which detail and which form
    it must have, and never repeats the value sent (which may be of any size)."""
    caller, record = await _treating_physician(client)
    sent = "MEDICINE-NAME-" * 500
    for section, sub, key in (("MEDICATIONS", "medication", "cip13"), ("MEDICATIONS", "medication", "atc"),
                              ("MEDICAL_DEVICES", "medicalDevice", "lppCode"),
                              ("LAB_RESULTS", "labResult", "loinc"),
                              ("MEDICAL_HISTORY", "medicalHistory", "icd10")):
        refused = await _refused(caller, _entry(record, section, **{sub: {key: sent}}))
        assert (refused["reason"], refused["field"]) == ("CODE_INVALID", f"details.{key}")
        assert "MEDICINE" not in refused["message"] and len(refused["message"]) < 120, refused["message"]
    assert await Entry.filter(record_id=record.id).count() == 0


async def test_an_unknown_detail_is_named_briefly(client: httpx.AsyncClient) -> None:
    """The insurer's details are free JSON: a refusal names the first unknown keys, each cut
    short and visible, not thousands of them at any length."""
    _, record = await factories.patient()
    insurer = Caller(client, token=await insurer_token())
    details = {f"\u202ek{n:04d}" + "x" * 500: 1 for n in range(2000)}
    payload = (await insurer.gql(IMPORT, {"items": [medication_item(record.ins, 1, details=details)]})).ok()
    rejected = payload["importCareHistory"]["rejected"]
    assert len(rejected) == 1
    message = rejected[0]["message"]
    assert len(message) < 700 and "\u202e" not in message and "1990 more" in message, message[:300]
    assert await Entry.filter(record_id=record.id).count() == 0


async def test_a_dose_number_counts_from_one(client: httpx.AsyncClient) -> None:
    """A vaccination's dose number counts from the first dose (the FHIR export's
    doseNumberPositiveInt cannot hold 0); negative quantities and numbers past their limit
    are refused too."""
    caller, record = await _treating_physician(client)
    cases = [
        ("VACCINATIONS", "vaccination", "doseNumber", 0, 1, 100),
        ("VACCINATIONS", "vaccination", "doseNumber", -1, 1, 100),
        ("VACCINATIONS", "vaccination", "doseNumber", 101, 1, 100),
        ("MEDICATIONS", "medication", "quantity", -3, 0, 10_000),
        ("MEDICAL_DEVICES", "medicalDevice", "quantity", 10_001, 0, 10_000),
    ]
    for section, sub, key, value, least, most in cases:
        refused = await _refused(caller, _entry(record, section, **{sub: {key: value}}))
        assert (refused["reason"], refused["field"], refused["min"], refused["max"]) == (
            "OUT_OF_RANGE", f"details.{key}", least, most), (key, value)
    assert await Entry.filter(record_id=record.id).count() == 0
    first = _entry(record, "VACCINATIONS", vaccination={"doseNumber": 1})
    one = await caller.gql(ADD_ENTRY, {"input": first})
    assert one.ok()["addEntry"]["entry"]["doseNumber"] == 1


async def test_codes_in_a_second_form_or_with_a_wrong_check_digit_are_refused(
    client: httpx.AsyncClient,
) -> None:
    """One code, one form: a LOINC number with leading zeros, a CIP13 or a LOINC code whose
    check digit is wrong, an ATC code of another level, a CCAM code of another shape."""
    caller, record = await _treating_physician(client)
    cases = [
        ("LAB_RESULTS", "0002345-7"), ("LAB_RESULTS", "2345-6"), ("LAB_RESULTS", "2345"),
        ("MEDICATIONS", "3400930000015"), ("MEDICATIONS", "A10BA"), ("MEDICATIONS", "Z10BA02"),
        ("PROCEDURES", "ZBQK02"), ("PROCEDURES", "ZBQK0021"), ("MEDICAL_DEVICES", "117631"),
        ("IMAGING", "1BQK002"), ("HOSPITAL_STAYS", "E1"),
    ]
    for section, code in cases:
        refused = await _refused(caller, _entry(record, section, code=code))
        assert refused["reason"] == "CODE_INVALID", (section, code)
    assert await Entry.filter(record_id=record.id).count() == 0
    lab = await caller.gql(ADD_ENTRY, {"input": _entry(record, "LAB_RESULTS", code=" 2345-7 ")})
    assert lab.ok()["addEntry"]["entry"]["code"] == "2345-7"


async def test_over_long_text_is_refused_after_it_is_cleaned(client: httpx.AsyncClient) -> None:
    """Titles and details are measured as they are kept: invisible characters do not count,
    visible ones past the limit refuse the entry, naming the field and the limit."""
    caller, record = await _treating_physician(client)
    title = await _refused(caller, _entry(record, "ALLERGIES", title="T" * 301))
    assert (title["reason"], title["field"], title["max"]) == ("FIELD_TOO_LONG", "title", 300)
    dose = await _refused(caller, _entry(record, "MEDICATIONS", medication={"dose": "d" * 201}))
    assert (dose["reason"], dose["field"], dose["max"]) == ("FIELD_TOO_LONG", "details.dose", 200)
    notes = await _refused(caller, _entry(record, "MEDICAL_HISTORY", medicalHistory={"notes": "n" * 10_001}))
    assert (notes["reason"], notes["field"], notes["max"]) == ("FIELD_TOO_LONG", "details.notes", 10_000)
    assert await Entry.filter(record_id=record.id).count() == 0
    long_title = "T" * 300 + "\u200b" * 50
    kept = await caller.gql(ADD_ENTRY, {"input": _entry(record, "ALLERGIES", title=long_title)})
    assert kept.ok()["addEntry"]["entry"]["title"] == "T" * 300


async def test_a_patient_is_refused_the_same_way(client: httpx.AsyncClient) -> None:
    """The patient's own entries go through the same checks."""
    patient, record = await factories.patient()
    caller = Caller(client, session=await session_for(patient))
    data = {"section": "VACCINATIONS", "title": "Rappel", "date": YESTERDAY, "code": "\u202eVAX",
            "vaccination": {"doseNumber": 0}}
    refused = await caller.gql(ADD_ENTRY, {"input": data})
    assert refused.errors[0]["extensions"]["reason"] == "OUT_OF_RANGE"
    ok = await caller.gql(ADD_ENTRY, {"input": {**data, "vaccination": {"doseNumber": 2}}})
    assert ok.ok()["addEntry"]["entry"]["code"] == "VAX"
    owner = await Account.get(id=patient.id)
    assert await Entry.filter(record_id=record.id, author_id=owner.id).count() == 1


async def test_a_tab_in_long_text_is_kept_as_a_space(client: httpx.AsyncClient) -> None:
    """A tab shows as a gap: long text (notes, a report, advance directives) keeps it as a
    space, not as nothing, which would join "10" and "20" into "1020"."""
    caller, record = await _treating_physician(client)
    notes = "Glycémie\t1.2\tg/L\nTA 12\x1f8\t\nfin"
    added = await caller.gql(ADD_ENTRY, {"input": _entry(record, "MEDICAL_HISTORY",
                                                         medicalHistory={"notes": notes})})
    added.ok()
    stored = await Entry.get(record_id=record.id)
    assert stored.details["notes"] == "Glycémie 1.2 g/L\nTA 12 8\nfin"
    profile = ("mutation ($input: EmergencyProfileInput!) {"
               " updateEmergencyProfile(input: $input) { emergencyProfile { advanceDirectives } } }")
    directives = {"ins": record.ins, "advanceDirectives": "Pas de\tréanimation"}
    result = (await caller.gql(profile, {"input": directives})).ok()
    assert result["updateEmergencyProfile"]["emergencyProfile"]["advanceDirectives"] == "Pas de réanimation"


async def test_numbers_that_are_not_whole_counts_are_refused_before_anything_runs(
    client: httpx.AsyncClient,
) -> None:
    """NaN, infinities, fractions and numbers past 32 bits, sent as a quantity: refused as
    input (an HTTP 400 or BAD_USER_INPUT), never an internal error; nothing is written."""
    caller, record = await _treating_physician(client)
    cookies = caller.cookies()
    for number in ("NaN", "Infinity", "-Infinity", "1e400", "2.5", "4294967296", "1" + "0" * 400, "3"):
        query = "mutation ($input: AddEntryInput!) { addEntry(input: $input) { entry { id } } }"
        data = (f'"ins": "{record.ins}", "section": "MEDICATIONS", "title": "x", "date": "{YESTERDAY}",'
                f' "medication": {{"quantity": {number}}}')
        body = f'{{"query": "{query}", "variables": {{"input": {{{data}}}}}}}'
        client.cookies.clear()
        for name, value in cookies.items():
            client.cookies.set(name, value)
        response = await client.post("/graphql", content=body, headers={
            **caller.headers(), "content-type": "application/json"})
        answer = response.json()
        codes = [e.get("extensions", {}).get("code") for e in answer.get("errors") or []]
        if number == "3":  # the same body with a count: written
            assert answer["data"]["addEntry"]["entry"]["id"], answer
            continue
        assert response.status_code == 400 or codes == ["BAD_USER_INPUT"], (number, answer)
    assert await Entry.filter(record_id=record.id).count() == 1


async def test_a_title_of_letters_that_show_as_nothing_is_no_title(client: httpx.AsyncClient) -> None:
    """The Hangul fillers and the braille blank are letters to Unicode, printable, yet show as
    nothing: read as the spaces they show as, a title of them is empty (FIELD_REQUIRED)."""
    caller, record = await _treating_physician(client)
    for blank in ("\u3164", "\u115f", "\u1160", "\uffa0", "\u2800"):
        error = await _refused(caller, _entry(record, "ALLERGIES", title=blank * 12))
        assert (error["reason"], error["field"]) == ("FIELD_REQUIRED", "title"), blank
    assert await Entry.filter(record_id=record.id).count() == 0
    pollen = _entry(record, "ALLERGIES", title="Pollen\u3164\u3164de bouleau")
    kept = await caller.gql(ADD_ENTRY, {"input": pollen})
    assert kept.ok()["addEntry"]["entry"]["title"] == "Pollen de bouleau"
