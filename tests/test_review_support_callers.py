"""Only a support session reaches support's fields: a partner's token (an insurer's, a
practitioner's), a patient, a practitioner or nobody is refused before the identifier is read
(so no answer tells whether it names an account, or is well formed), and nothing is written."""

from __future__ import annotations

import httpx

from backend import accounts, clock
from backend.domain.enums import RecordStatus
from backend.models import AccessEvent, Account, ActivationCode, OutboxMessage, Record
from tests import factories
from tests.conftest import Caller, session_for

OPERATIONS = {
    "supportAccount": "query($i: String!) { supportAccount(identifier: $i) { accountId displayName } }",
    "unlockAccount": "mutation($i: String!) { unlockAccount(identifier: $i) { locked } }",
    "resendActivation": "mutation($i: String!) { resendActivation(identifier: $i) }",
    "startContactRecovery": "mutation($i: String!) { startContactRecovery(identifier: $i) }",
}


async def test_no_caller_but_support_reaches_supports_fields_whatever_the_identifier(
    client: httpx.AsyncClient,
) -> None:
    patient, record = await factories.patient(email="lea.callers@test.dmp")
    await Account.filter(id=patient.id).update(locked_at=clock.now(), lock_reason="too many wrong codes")
    pending = await Record.create(
        ins=factories.new_ins(), first_name="Paul", last_name="Pending", birth_date=record.birth_date,
        status=RecordStatus.PENDING, pending_contact="paul.callers@test.dmp")
    doctor, pro = await factories.practitioner()
    _, insurer = await accounts.create_token("cpam", ["insurer:import"], organization="CPAM")
    _, cabinet = await accounts.create_token("cabinet", ["practitioner"], practitioner_rpps=pro.rpps)
    callers = {
        "insurer token": (Caller(client, token=insurer), "FORBIDDEN"),
        "practitioner token": (Caller(client, token=cabinet), "FORBIDDEN"),
        "practitioner": (Caller(client, session=await session_for(doctor)), "FORBIDDEN"),
        "patient": (Caller(client, session=await session_for(patient)), "FORBIDDEN"),
        "anonymous": (Caller(client), "UNAUTHENTICATED"),
    }
    identifiers = ["lea.callers@test.dmp", record.ins, pending.ins, pro.rpps, "nobody@test.dmp",
                   factories.new_ins(), "", "x" * 300, "lea@", "12345"]
    for who, (caller, code) in callers.items():
        for name, document in OPERATIONS.items():
            for identifier in identifiers:
                result = await caller.gql(document, {"i": identifier})
                assert result.codes == [code], (who, name, identifier[:20], result.errors)
                assert "reason" not in result.errors[0]["extensions"], (who, name, identifier[:20])
                assert result.data is None or result.data.get(name) is None
    assert await AccessEvent.all().count() == 0
    assert await ActivationCode.all().count() == 0
    assert await OutboxMessage.all().count() == 0
    assert (await Account.get(id=patient.id)).locked_at is not None
