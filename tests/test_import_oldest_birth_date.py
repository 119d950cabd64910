"""A birth date before the oldest that create-account accepts (accounts.OLDEST_BIRTH_DATE) is
refused by the insurer's import, per item, and by openRecordForPatient: nothing is written."""

from __future__ import annotations

import datetime as dt

import httpx

from backend.accounts import OLDEST_BIRTH_DATE
from backend.models import AccessEvent, ActivationCode, Entry, ImportKey, Record
from tests import factories
from tests.care_items import IMPORT, insurer_token, medication_item
from tests.conftest import Caller, session_for

OPEN = """mutation($input: OpenRecordInput!) {
  openRecordForPatient(input: $input) { ins activationCode } }"""

DAY_BEFORE = (OLDEST_BIRTH_DATE - dt.timedelta(days=1)).isoformat()


async def test_the_import_refuses_a_birth_date_before_the_oldest(client: httpx.AsyncClient) -> None:
    _, record = await factories.patient()
    insurer = Caller(client, token=await insurer_token())
    new_ins = factories.new_ins()
    items = [
        medication_item(new_ins, 1, birthDate=DAY_BEFORE, date="2020-01-01"),
        medication_item(record.ins, 2, birthDate=DAY_BEFORE, date="2020-01-01"),
        medication_item(record.ins, 3),
    ]
    payload = (await insurer.gql(IMPORT, {"items": items})).ok()["importCareHistory"]
    assert payload["created"] == 1
    assert [(r["index"], r["code"], r["message"]) for r in payload["rejected"]] == [
        (0, "BAD_USER_INPUT", "birthDate is too far in the past"),
        (1, "BAD_USER_INPUT", "birthDate is too far in the past"),
    ]
    assert await Record.filter(ins=new_ins).count() == 0
    assert await Entry.all().values_list("external_id", flat=True) == ["MED-3"]
    assert await ImportKey.all().count() == 1
    assert await AccessEvent.filter(record__ins=new_ins).count() == 0


async def test_the_import_takes_the_oldest_birth_date_itself(client: httpx.AsyncClient) -> None:
    insurer = Caller(client, token=await insurer_token())
    ins = factories.new_ins()
    item = medication_item(ins, 1, birthDate=OLDEST_BIRTH_DATE.isoformat(), date="2020-01-01")
    payload = (await insurer.gql(IMPORT, {"items": [item]})).ok()["importCareHistory"]
    assert (payload["created"], payload["rejected"]) == (1, [])
    assert (await Record.get(ins=ins)).birth_date == OLDEST_BIRTH_DATE


async def test_open_record_for_patient_refuses_a_birth_date_before_the_oldest(
    client: httpx.AsyncClient,
) -> None:
    account, _ = await factories.practitioner()
    doctor = Caller(client, session=await session_for(account))
    identity = {"ins": factories.new_ins(), "firstName": "Léa", "lastName": "Martin"}
    refused = await doctor.gql(OPEN, {"input": {**identity, "birthDate": DAY_BEFORE}})
    assert refused.codes == ["BAD_USER_INPUT"]
    assert refused.errors[0]["extensions"]["reason"] == "DATE_TOO_OLD"
    assert refused.errors[0]["extensions"]["field"] == "birthDate"
    assert await Record.all().count() == 0
    assert await ActivationCode.all().count() == 0
    assert await AccessEvent.all().count() == 0
    opened = await doctor.gql(OPEN, {"input": {**identity, "birthDate": OLDEST_BIRTH_DATE.isoformat()}})
    assert opened.ok()["openRecordForPatient"]["ins"] == identity["ins"]
