"""`dmp release-pending-record INS`: an operator's remedy for an INS taken by a record waiting
for activation under another identity (an identity typed wrong, or made up by an import or a
practice app whose token was misused): the real patient's practitioner could only get
IDENTITY_MISMATCH, and a record opened by an import, holding entries, was never purged."""

from __future__ import annotations

import httpx

from backend.audit.chain import purged_ins_mac
from backend.config import settings
from backend.models import AccessEvent, ActivationCode, Entry, PurgedIdentity, PurgedRecord, Record
from tests import factories
from tests.care_items import IMPORT, insurer_token, medication_item
from tests.conftest import Caller, session_for
from tests.server import run_dmp

OPEN = """mutation($input: OpenRecordInput!) {
  openRecordForPatient(input: $input) { ins activationCode } }"""
TRUE_IDENTITY = {"firstName": "Jean", "lastName": "Vrai", "birthDate": "1988-05-05", "email": "jean@test.dmp"}


async def _counts() -> tuple[int, int, int, int]:
    return (await Record.all().count(), await Entry.all().count(), await ActivationCode.all().count(),
            await AccessEvent.all().count())


async def test_a_record_opened_under_a_made_up_identity_is_released_and_opened_rightly(
    client: httpx.AsyncClient,
) -> None:
    ins = factories.new_ins()
    insurer = Caller(client, token=await insurer_token())
    made_up = [medication_item(ins, n, firstName="Faux", lastName="Nom", birthDate="2000-01-01",
                               contactEmail="someone@test.dmp") for n in range(3)]
    (await insurer.gql(IMPORT, {"items": made_up})).ok()
    record = await Record.get(ins=ins)
    assert await Entry.filter(record_id=record.id).count() == 3
    assert await ActivationCode.filter(record_id=record.id).exists()
    account, _ = await factories.practitioner()
    doctor = Caller(client, session=await session_for(account))
    refused = await doctor.gql(OPEN, {"input": {"ins": ins, **TRUE_IDENTITY}})
    assert refused.errors[0]["extensions"]["reason"] == "IDENTITY_MISMATCH"

    released = run_dmp("release-pending-record", ins)
    assert released.returncode == 0, released.stderr
    assert "released the pending record" in released.stdout and ins not in released.stdout
    assert not await Record.filter(ins=ins).exists()
    assert not await Entry.filter(record_id=record.id).exists()
    assert not await ActivationCode.filter(record_id=record.id).exists()
    assert not await AccessEvent.filter(record_id=record.id).exists()
    assert await PurgedRecord.filter(record_id=record.id).exists()  # sealed: verify --anchor knows
    assert await PurgedIdentity.filter(ins_mac=purged_ins_mac(settings().audit_key, ins)).exists()

    opened = (await doctor.gql(OPEN, {"input": {"ins": ins, **TRUE_IDENTITY}})).ok()["openRecordForPatient"]
    assert opened["ins"] == ins and opened["activationCode"]
    assert (await Record.get(ins=ins)).last_name == "Vrai"


async def test_only_a_record_waiting_for_activation_is_released() -> None:
    _, active = await factories.patient()
    before = await _counts()
    cases = ((active.ins, "not waiting for activation"), (factories.new_ins(), "no record has this INS"),
             ("123", "INS must be 15 characters"))
    for given, words in cases:
        result = run_dmp("release-pending-record", given)
        assert result.returncode == 1 and words in result.stderr, result.stderr
    assert await _counts() == before
    assert await Record.filter(id=active.id).exists()
