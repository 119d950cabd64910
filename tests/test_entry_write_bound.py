"""Entries written by hand are bounded per account, record and hour: a patient's script added
~165 entries a second to their own record, until its export took seconds. addEntry (corrections
included), uploadDocument and updateEmergencyProfile's changes count together, once they would
be written;
past MANUAL_WRITES_PER_HOUR the answer is RATE_LIMITED and nothing is written. The insurer's
imports are not counted."""

from __future__ import annotations

import asyncio
import datetime as dt
from typing import Any

import httpx
import pytest

from backend import clock
from backend.auth import limits
from backend.models import AccessEvent, Account, Entry, Grant, Record, StoredFile
from backend.resolvers import content, documents
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


def _hold_first_call(
    monkeypatch: pytest.MonkeyPatch, module: Any, name: str
) -> tuple[asyncio.Event, asyncio.Event]:
    """The first call of `module`.`name` returns, then waits until `go` is set; `reached` tells
    it got there (before the record's lock: the calls held are those made before it). Later
    calls pass."""
    real = getattr(module, name)
    reached, go = asyncio.Event(), asyncio.Event()
    calls: list[int] = []

    async def held(*args: Any, **kw: Any) -> Any:
        result = await real(*args, **kw)
        calls.append(1)
        if len(calls) == 1:
            reached.set()
            await go.wait()
        return result

    monkeypatch.setattr(module, name, held)
    return reached, go


async def _stored() -> tuple[int, set[str]]:
    """The stored-file rows, and the encrypted files on disk."""
    return await StoredFile.all().count(), document_samples.files_on_disk()


async def test_a_correction_refused_under_the_lock_is_not_counted(
    client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two corrections of one entry at once (a double submit): the second is refused CONFLICT
    under the record's lock, nothing written, and its count goes back with it."""
    monkeypatch.setattr(content, "MANUAL_WRITES_PER_HOUR", 3)
    owner, record = await factories.patient()
    patient = await _as(client, owner)
    first = (await patient.gql(ADD_ENTRY, {"input": vaccination(1)})).ok()["addEntry"]["entry"]["id"]  # 1

    reached, go = _hold_first_call(monkeypatch, content, "superseded_entry")
    held = asyncio.create_task(patient.gql(ADD_ENTRY, {"input": vaccination(2, supersedes=first)}))
    await reached.wait()  # checked before the lock, not yet under it
    (await patient.gql(ADD_ENTRY, {"input": vaccination(3, supersedes=first)})).ok()  # 2
    before = await _written(record)
    go.set()
    assert (await held).codes == ["CONFLICT"]
    assert await _written(record) == before

    (await patient.gql(ADD_ENTRY, {"input": vaccination(4)})).ok()  # 3: the refused one took none
    before = await _written(record)
    assert (await patient.gql(ADD_ENTRY, {"input": vaccination(5)})).codes == ["RATE_LIMITED"]
    assert await _written(record) == before


async def test_a_profile_change_sent_with_the_old_value_is_counted_when_written(
    client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The profile is A+. One request sends A+ (the same, as read before the lock), another B+,
    which commits first: the first then finds B+ under the lock and writes A+, counted."""
    monkeypatch.setattr(content, "MANUAL_WRITES_PER_HOUR", 3)
    owner, record = await factories.patient()
    patient = await _as(client, owner)
    (await patient.gql(PROFILE, {"input": {"bloodGroup": "A+"}})).ok()  # 1

    reached, go = _hold_first_call(monkeypatch, content, "view_of")
    again = asyncio.create_task(patient.gql(PROFILE, {"input": {"bloodGroup": "A+"}}))
    await reached.wait()
    (await patient.gql(PROFILE, {"input": {"bloodGroup": "B+"}})).ok()  # 2
    go.set()
    (await again).ok()  # 3: written
    assert (await Record.get(id=record.id)).blood_group == "A+"

    before = await _written(record)
    assert before[1] == 3  # three changes, each with its event
    limited = await patient.gql(PROFILE, {"input": {"bloodGroup": "O-"}})
    assert limited.codes == ["RATE_LIMITED"] and limited.errors[0]["extensions"]["retryAfter"] > 0
    assert await _written(record) == before
    assert (await Record.get(id=record.id)).blood_group == "A+"


async def test_a_profile_change_found_made_under_the_lock_is_not_counted(
    client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The profile is A+. Two requests send B+ at once: the first to take the lock writes it;
    the other finds B+ under the lock, writes nothing, and counts nothing."""
    monkeypatch.setattr(content, "MANUAL_WRITES_PER_HOUR", 3)
    owner, record = await factories.patient()
    patient = await _as(client, owner)
    (await patient.gql(PROFILE, {"input": {"bloodGroup": "A+"}})).ok()  # 1

    reached, go = _hold_first_call(monkeypatch, content, "view_of")
    same = asyncio.create_task(patient.gql(PROFILE, {"input": {"bloodGroup": "B+"}}))
    await reached.wait()
    (await patient.gql(PROFILE, {"input": {"bloodGroup": "B+"}})).ok()  # 2
    before = await _written(record)
    go.set()
    (await same).ok()
    assert await _written(record) == before  # no change, no event

    (await patient.gql(PROFILE, {"input": {"bloodGroup": "O-"}})).ok()  # 3
    before = await _written(record)
    assert (await patient.gql(PROFILE, {"input": {"bloodGroup": "AB+"}})).codes == ["RATE_LIMITED"]
    assert await _written(record) == before
    assert (await Record.get(id=record.id)).blood_group == "O-"


async def test_past_the_bound_an_upload_is_refused_before_its_file_is_read(
    client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A file is read (up to 20 MB) and checked (seconds, for some PDFs): past the bound, an
    upload is refused before either, with the time left of the hour."""
    monkeypatch.setattr(content, "MANUAL_WRITES_PER_HOUR", 1)
    reads: list[int] = []
    checks: list[int] = []
    read, sniff = documents._read_limited, documents.sniff

    async def counted_read(file: Any) -> bytes:
        reads.append(1)
        return await read(file)

    monkeypatch.setattr(documents, "_read_limited", counted_read)
    monkeypatch.setattr(documents, "sniff", lambda data: checks.append(1) or sniff(data))
    owner, record = await factories.patient()
    patient = await _as(client, owner)
    (await document_samples.upload(patient, document_samples.pdf())).ok()  # 1
    assert (len(reads), len(checks)) == (1, 1)
    before, stored = await _written(record), await _stored()

    for n in range(3):
        limited = await document_samples.upload(patient, document_samples.pdf(f"m{n}"))
        assert limited.codes == ["RATE_LIMITED"] and limited.data is None
        assert 0 < limited.errors[0]["extensions"]["retryAfter"] <= 3600
    assert (len(reads), len(checks)) == (1, 1)
    assert await _written(record) == before
    assert await _stored() == stored


async def test_an_upload_counted_past_the_bound_under_the_lock_stores_nothing(
    client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Uploads sent at once all pass the early look; the count under the record's lock refuses
    those past the bound: no row, no event, and the file written before the lock removed."""
    monkeypatch.setattr(content, "MANUAL_WRITES_PER_HOUR", 1)

    async def never(key: str, window_start: dt.datetime, limit: int) -> bool:
        return False

    monkeypatch.setattr(limits, "at_bound", never)
    owner, record = await factories.patient()
    patient = await _as(client, owner)
    (await document_samples.upload(patient, document_samples.pdf())).ok()  # 1
    before, stored = await _written(record), await _stored()

    limited = await document_samples.upload(patient, document_samples.pdf("again"))
    assert limited.codes == ["RATE_LIMITED"] and limited.errors[0]["extensions"]["retryAfter"] > 0
    assert await _written(record) == before
    assert await _stored() == stored


async def test_a_document_replacement_refused_under_the_lock_is_not_counted(
    client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two new versions of one document at once: the second is refused CONFLICT under the
    record's lock, nothing stored, and its count goes back with it."""
    monkeypatch.setattr(content, "MANUAL_WRITES_PER_HOUR", 3)
    owner, record = await factories.patient()
    patient = await _as(client, owner)
    uploaded = (await document_samples.upload(patient, document_samples.pdf())).ok()
    first = uploaded["uploadDocument"]["entry"]["id"]

    reached, go = _hold_first_call(monkeypatch, documents, "superseded_entry")
    held = asyncio.create_task(document_samples.upload(patient, document_samples.pdf("v2"), supersedes=first))
    await reached.wait()  # checked before the file is read, not yet under the lock
    (await document_samples.upload(patient, document_samples.pdf("v3"), supersedes=first)).ok()  # 2
    before, stored = await _written(record), await _stored()
    go.set()
    assert (await held).codes == ["CONFLICT"]
    assert await _written(record) == before
    assert await _stored() == stored

    (await patient.gql(ADD_ENTRY, {"input": vaccination(1)})).ok()  # 3: the refused one took none
    before = await _written(record)
    assert (await patient.gql(ADD_ENTRY, {"input": vaccination(2)})).codes == ["RATE_LIMITED"]
    assert await _written(record) == before
