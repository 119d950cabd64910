"""A practitioner the patient blocked gets nothing of their record (DESIGN §3, rule 6): not
the activation code of a contact recovery either, which hands the whole account to whoever
completes it (createRecord with the code, a new address and a password)."""

from __future__ import annotations

import httpx

from backend.domain.enums import Profession
from backend.models import AccessEvent, Account, ActivationCode, BlockedPractitioner, Record
from tests import factories
from tests.conftest import Caller, session_for

BLOCK = "mutation($p: ID!) { blockPractitioner(practitionerId: $p) { sharing { blocked { id } } } }"
RECOVERY = "mutation($i: String!) { startContactRecovery(identifier: $i) }"
CREATE = """mutation($ins: String!, $code: String!) {
  createRecord(input: {ins: $ins, activationCode: $code, email: "taken.over@test.dmp",
                       password: "a-brand-new-passphrase"}) { attemptToken } }"""


def _open(record: Record) -> str:
    return f"""mutation {{ openRecordForPatient(input: {{ins: "{record.ins}",
        firstName: "{record.first_name}", lastName: "{record.last_name}", birthDate: "1985-06-12"}})
        {{ activationCode }} }}"""


async def test_a_blocked_practitioner_is_not_handed_a_recovery_code(client: httpx.AsyncClient) -> None:
    patient, record = await factories.patient()
    doctor_account, doctor = await factories.practitioner(Profession.MEDECIN)
    (await Caller(client, session=await session_for(patient)).gql(BLOCK, {"p": str(doctor.id)})).ok()
    assert await BlockedPractitioner.filter(record_id=record.id, practitioner_id=doctor.id).exists()
    support = Caller(client, session=await session_for(await factories.support()))
    (await support.gql(RECOVERY, {"i": record.ins})).ok()
    codes_before = await ActivationCode.filter(record_id=record.id).count()

    # The answer a practitioner gets for an active record without a recovery: nothing tells
    # the blocked practitioner that one is open.
    opened = await Caller(client, session=await session_for(doctor_account)).gql(_open(record))
    assert opened.codes == ["CONFLICT"], opened.errors
    assert opened.data is None
    assert "activationCode" not in opened.response.text
    assert await ActivationCode.filter(record_id=record.id).count() == codes_before
    assert not await AccessEvent.filter(record_id=record.id, action="RECORD_OPENED").exists()
    assert await AccessEvent.filter(record_id=record.id, action="ACCESS_DENIED").count() == 1
    # The code the patient is given by another practitioner still works, and the account
    # stays the patient's until then.
    assert (await Account.get(id=patient.id)).email == patient.email
    _, other = await factories.practitioner(Profession.MEDECIN)
    other_account = await Account.get(id=other.account_id)  # type: ignore[attr-defined]
    code = (await Caller(client, session=await session_for(other_account)).gql(_open(record))).ok()[
        "openRecordForPatient"]["activationCode"]
    (await Caller(client).gql(CREATE, {"ins": record.ins, "code": code})).ok()

