"""Entries written by hand are bounded per account, record and hour: a patient's script added
~165 entries a second to their own record, until its export took seconds. addEntry (corrections
included), uploadDocument and updateEmergencyProfile's changes count together, once they would
be written;
past MANUAL_WRITES_PER_HOUR the answer is RATE_LIMITED and nothing is written. The insurer's
imports are not counted."""

from __future__ import annotations

import datetime as dt
from typing import Any

import httpx
import pytest

from backend import clock
from backend.models import AccessEvent, Account, Entry, Grant, Record, StoredFile
from backend.resolvers import content
from tests import document_samples, factories
from tests.care_items import ADD_ENTRY, IMPORT, insurer_token, medication_item
from tests.conftest import Caller, session_for
from tests.test_content_add_entry import medication

YESTERDAY = (dt.date.today() - dt.timedelta(days=1)).isoformat()
PROFILE = ("mutation($input: EmergencyProfileInput!) {"
           " updateEmergencyProfile(input: $input) { emergencyProfile { bloodGroup } } }")


@pytest.fixture(autouse=True)
def _start_of_an_hour() -> None:
    now = clock.now()
    clock.shift(now.replace(minute=0, second=0, microsecond=0) + dt.timedelta(hours=1) - now)


def test_the_bound_is_six_hundred_writes_an_hour() -> None:
    assert content.MANUAL_WRITES_PER_HOUR == 600


def vaccination(n: int, **over: Any) -> dict[str, Any]:
    data: dict[str, Any] = {"section": "VACCINATIONS", "title": f"Rappel DTP {n}", "date": YESTERDAY,
                            "vaccination": {"vaccine": "Revaxis", "lot": "X123", "doseNumber": 4}}
    data.update(over)
    return data


async def _as(client: httpx.AsyncClient, account: Account) -> Caller:
    return Caller(client, session=await session_for(account))


async def _written(record: Record) -> tuple[int, int]:
    entries = await Entry.filter(record_id=record.id).count()
    return entries, await AccessEvent.filter(record_id=record.id).count()


async def test_past_the_bound_a_patients_writes_are_rate_limited_and_write_nothing(
    client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(content, "MANUAL_WRITES_PER_HOUR", 3)
    owner, record = await factories.patient()
    patient = await _as(client, owner)
    # An entry refused for its input is not written, and not counted.
    refused = await patient.gql(ADD_ENTRY, {"input": vaccination(0, title=" ")})
    assert refused.codes == ["BAD_USER_INPUT"]
    first = (await patient.gql(ADD_ENTRY, {"input": vaccination(1)})).ok()["addEntry"]["entry"]["id"]
    (await patient.gql(ADD_ENTRY, {"input": vaccination(2)})).ok()
    # A change of the emergency profile counts with the entries.
    (await patient.gql(PROFILE, {"input": {"bloodGroup": "A+"}})).ok()
    before = await _written(record)
    assert before[0] == 2

    limited = await patient.gql(ADD_ENTRY, {"input": vaccination(3)})
    assert limited.codes == ["RATE_LIMITED"] and limited.data is None
    assert 0 < limited.errors[0]["extensions"]["retryAfter"] <= 3600
    correction = await patient.gql(ADD_ENTRY, {"input": vaccination(4, supersedes=first)})
    assert correction.codes == ["RATE_LIMITED"]
    profile = await patient.gql(PROFILE, {"input": {"bloodGroup": "O-"}})
    assert profile.codes == ["RATE_LIMITED"]
    assert await _written(record) == before
    assert not (await Entry.get(id=first)).superseded
    assert (await Record.get(id=record.id)).blood_group == "A+"

    # The same profile sent again changes nothing: it is answered, not counted.
    assert (await patient.gql(PROFILE, {"input": {"bloodGroup": "A+"}})).ok()

    # A practitioner writing to the same record has a bound of their own.
    account, practitioner = await factories.practitioner()
    await Grant.create(record=record, practitioner=practitioner, sections=["MEDICATIONS"])
    (await (await _as(client, account)).gql(ADD_ENTRY, {"input": medication(record.ins)})).ok()
    # The insurer's imports are not counted: they have their own bounds.
    insurer = Caller(client, token=await insurer_token())
    payload = (await insurer.gql(IMPORT, {"items": [medication_item(record.ins, 1)]})).ok()
    assert payload["importCareHistory"]["created"] == 1
    assert (await _written(record))[0] == before[0] + 2

    # The next hour, the patient writes again.
    clock.shift(dt.timedelta(hours=1))
    patient = await _as(client, owner)
    (await patient.gql(ADD_ENTRY, {"input": vaccination(5)})).ok()
    assert (await _written(record))[0] == before[0] + 3


async def test_a_practitioners_writes_are_counted_per_record(
    client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(content, "MANUAL_WRITES_PER_HOUR", 2)
    account, practitioner = await factories.practitioner()
    records = [(await factories.patient())[1] for _ in range(3)]
    for record in records:
        await Grant.create(record=record, practitioner=practitioner, sections=["MEDICATIONS", "DOCUMENTS"])
    caller = await _as(client, account)
    # Software writing into many patients' records through one account meets no bound.
    for record in records:
        (await caller.gql(ADD_ENTRY, {"input": medication(record.ins)})).ok()
    (await caller.gql(ADD_ENTRY, {"input": medication(records[0].ins)})).ok()
    before = await _written(records[0])
    limited = await caller.gql(ADD_ENTRY, {"input": medication(records[0].ins)})
    assert limited.codes == ["RATE_LIMITED"]
    # A document is an entry too: refused alike, nothing stored.
    files = await StoredFile.filter(record_id=records[0].id).count()
    upload = await document_samples.upload(caller, document_samples.pdf(), ins=records[0].ins)
    assert upload.codes == ["RATE_LIMITED"]
    assert await _written(records[0]) == before
    assert await StoredFile.filter(record_id=records[0].id).count() == files
    # The other records are still written to.
    (await caller.gql(ADD_ENTRY, {"input": medication(records[1].ins)})).ok()
