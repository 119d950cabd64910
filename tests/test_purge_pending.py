"""A record opened at the point of care with an identity typed wrong, or for a patient who
never came, does not keep the INS for ever: once nobody activated it for longer than an
activation code lives, and it holds nothing, `dmp purge` removes it and the INS is free for a
record opened with the right identity."""

from __future__ import annotations

from datetime import timedelta

import httpx

from backend import clock
from backend.domain.enums import RecordStatus
from backend.models import AccessEvent, PurgedIdentity, PurgedRecord, Record
from backend.purge import purge
from tests import factories
from tests.care_items import IMPORT, insurer_token, medication_item
from tests.conftest import Caller, session_for
from tests.test_auth_signup import OPEN


def _identity(ins: str, first: str, last: str, born: str) -> dict[str, str]:
    return {"ins": ins, "firstName": first, "lastName": last, "birthDate": born}


async def _doctor(client: httpx.AsyncClient) -> Caller:
    account, _ = await factories.practitioner()
    return Caller(client, session=await session_for(account))


async def test_a_pending_record_of_a_wrong_identity_frees_its_ins(client: httpx.AsyncClient) -> None:
    ins = factories.new_ins()
    first, second = await _doctor(client), await _doctor(client)
    (await first.gql(OPEN, {"input": _identity(ins, "Faux", "Nom", "2001-01-01")})).ok()
    right = _identity(ins, "Alice", "Martin", "1985-06-12")
    assert (await second.gql(OPEN, {"input": right})).errors[0]["extensions"]["reason"] == "IDENTITY_MISMATCH"
    stale = await Record.get(ins=ins)

    clock.shift(timedelta(days=20))  # its code still valid: kept
    report = await purge()
    assert report.abandoned == 0 and await Record.filter(ins=ins).exists()

    clock.shift(timedelta(days=26))
    report = await purge()
    assert report.abandoned == 1 and report.record_ids == [stale.id]
    assert not await Record.filter(ins=ins).exists()
    assert await AccessEvent.filter(record_id=stale.id).count() == 0
    assert await PurgedRecord.filter(record_id=stale.id).exists()  # sealed, as any purge
    assert await PurgedIdentity.all().count() == 0  # no wish of the patient to remember

    second = await _doctor(client)  # sessions age too
    opened = (await second.gql(OPEN, {"input": right})).ok()["openRecordForPatient"]
    assert opened["ins"] == ins and opened["activationCode"]
    record = await Record.get(ins=ins)
    assert (record.first_name, record.status) == ("Alice", RecordStatus.PENDING)


async def test_pending_records_holding_something_or_a_valid_code_stay(client: httpx.AsyncClient) -> None:
    insurer = Caller(client, token=await insurer_token())
    imported = factories.new_ins()
    (await insurer.gql(IMPORT, {"items": [medication_item(imported, 1)]})).ok()
    reissued = factories.new_ins()
    doctor = await _doctor(client)
    (await doctor.gql(OPEN, {"input": _identity(reissued, "Alice", "Martin", "1985-06-12")})).ok()
    _, active = await factories.patient()

    clock.shift(timedelta(days=40))
    doctor = await _doctor(client)  # a new code, handed over again at the desk
    (await doctor.gql(OPEN, {"input": _identity(reissued, "Alice", "Martin", "1985-06-12")})).ok()
    clock.shift(timedelta(days=10))
    report = await purge()

    assert report.abandoned == 0
    assert await Record.filter(ins=imported, status=RecordStatus.PENDING).exists()
    assert await Record.filter(ins=reissued, status=RecordStatus.PENDING).exists()
    assert await Record.filter(id=active.id).exists()
