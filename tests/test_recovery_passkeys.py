"""A contact recovery (support opens it, a practitioner checks the identity, the patient sets
new contacts) removes the account's passkeys: one left on the lost device would sign in after
it and, as a fresh second factor, undo it."""

from __future__ import annotations

import json

import httpx

from backend.models import PasskeyChallenge, PasskeyCredential, Session
from tests import factories
from tests.conftest import Caller, session_for
from tests.passkey_flows import begin_login, begin_registration, finish_login, register
from tests.soft_authenticator import SoftAuthenticator

CREATE = """mutation($ins: String!, $code: String!) {
    createRecord(input: {ins: $ins, activationCode: $code, email: "lea.new@test.dmp",
                         password: "a-brand-new-passphrase"}) { attemptToken sentTo } }"""


async def test_a_contact_recovery_removes_the_accounts_passkeys(client: httpx.AsyncClient) -> None:
    patient, record = await factories.patient(email="lea.old@test.dmp")
    authenticator = SoftAuthenticator()
    owner = Caller(client, session=await session_for(patient))
    await register(owner, authenticator)
    await begin_registration(owner)  # a registration begun and never finished
    other, _ = await factories.patient()
    other_cred = await register(Caller(client, session=await session_for(other)), SoftAuthenticator())
    await Session.filter(account_id=patient.id).delete()

    support = Caller(client, session=await session_for(await factories.support()))
    started = await support.gql(
        "mutation($i: String!) { startContactRecovery(identifier: $i) }", {"i": record.ins})
    started.ok()
    doctor, _ = await factories.practitioner()
    opened = await Caller(client, session=await session_for(doctor)).gql(
        """mutation($i: OpenRecordInput!) { openRecordForPatient(input: $i) { activationCode } }""",
        {"i": {"ins": record.ins, "firstName": record.first_name, "lastName": record.last_name,
               "birthDate": record.birth_date.isoformat()}},
    )
    code = opened.ok()["openRecordForPatient"]["activationCode"]
    (await Caller(client).gql(CREATE, {"ins": record.ins, "code": code})).ok()

    assert not await PasskeyCredential.filter(account_id=patient.id).exists()
    assert not await PasskeyChallenge.filter(account_id=patient.id).exists()
    assert await PasskeyCredential.filter(credential_id=other_cred.id).exists()  # others' stay
    # The passkey of the lost device no longer signs in.
    anonymous = Caller(client)
    options = await begin_login(anonymous)
    refused = await finish_login(anonymous, authenticator.assertion(options))
    assert refused.codes == ["BAD_USER_INPUT"]
    assert refused.errors[0]["extensions"]["reason"] == "PASSKEY_NOT_VERIFIED"
    assert not await Session.filter(account_id=patient.id).exists()
    status = await support.gql(
        "query($i: String!) { supportAccount(identifier: $i) { passkeyCount } }", {"i": record.ins})
    assert status.ok()["supportAccount"]["passkeyCount"] == 0
    assert json.loads(options)["allowCredentials"] == []  # a passkey alone: none named
