"""Codes go by SMS only to a confirmed number (DESIGN §5): a number typed at `createRecord` or at a
contact recovery and never confirmed gets no code, whatever the channel chosen; the codes go
by e-mail, and every answer says so, until the number is confirmed."""

from __future__ import annotations

import httpx

from backend import clock
from backend.auth.contacts import destination
from backend.domain.enums import CodeChannel
from backend.models import Account, OutboxMessage
from tests import factories
from tests.auth_flows import COMPLETE, FRESH, RESET, session_cookie, start
from tests.conftest import Caller, session_for
from tests.smtp import SmtpServer, sms_code_for

OPEN = """mutation($input: OpenRecordInput!) { openRecordForPatient(input: $input) { activationCode } }"""
CREATE = """mutation($input: CreateRecordInput!) { createRecord(input: $input) { attemptToken sentTo } }"""
VERIFY = """mutation($t: String!, $c: String!) { verifyContact(attemptToken: $t, code: $c) { me { id } } }"""
RECOVER = "mutation($i: String!) { startContactRecovery(identifier: $i) }"
CHANGE_PHONE = "mutation($p: String!) { changePhone(newPhone: $p) { sentTo } }"
CONFIRM_PHONE = "mutation($c: String!) { confirmPhoneChange(code: $c) }"
CHANNEL = "{ me { codeChannel } }"
STRONG = "un mot de passe long et rare 42"
# One digit off the patient's own number: a stranger's.
MISTYPED = "06 12 34 56 79"
EMAIL_MASKED = "l•••@t•••.dmp"


async def _texts() -> list[str]:
    return list(await OutboxMessage.filter(channel="SMS").values_list("recipient", flat=True))


async def _activation_code(client: httpx.AsyncClient, ins: str, first: str = "Léa", last: str = "Martin",
                           birth: str = "1990-04-02") -> str:
    doctor, _ = await factories.practitioner()
    opened = await Caller(client, session=await session_for(doctor)).gql(OPEN, {"input": {
        "ins": ins, "firstName": first, "lastName": last, "birthDate": birth}})
    return str(opened.ok()["openRecordForPatient"]["activationCode"])


async def _codes_go_by_email(client: httpx.AsyncClient, smtp: SmtpServer, account: Account, ins: str) -> None:
    """Login, reset and fresh-factor codes all reach the e-mail address, none the number."""
    email = account.email or ""
    started = await start(client, email, STRONG)
    assert started["codeSentTo"] == EMAIL_MASKED  # where the code really went
    code = await smtp.code_for(email)
    signed_in = await Caller(client).gql(COMPLETE, {"t": started["attemptToken"], "c": code})
    session = session_cookie(signed_in)
    assert session
    caller = Caller(client, session=session)
    assert (await caller.gql(CHANNEL)).ok() == {"me": {"codeChannel": "EMAIL"}}
    assert (await caller.gql(FRESH)).ok() == {"requestFreshFactor": {"sentTo": EMAIL_MASKED}}
    (await Caller(client).gql(RESET, {"i": ins})).ok()
    await smtp.deliver()
    subjects = [m.subject for m in smtp.to(email)]
    assert len(subjects) >= 3, subjects  # the login's, the fresh factor's and the reset's codes
    assert await _texts() == []


async def test_a_number_typed_at_sign_up_gets_no_code_until_confirmed(
    client: httpx.AsyncClient, smtp_server: SmtpServer
) -> None:
    ins = factories.new_ins()
    code = await _activation_code(client, ins)
    created = (await Caller(client).gql(CREATE, {"input": {
        "ins": ins, "activationCode": code, "email": "lea@test.dmp", "phone": MISTYPED,
        "password": STRONG, "codeChannel": "SMS"}})).ok()["createRecord"]
    assert created["sentTo"] == EMAIL_MASKED
    (await Caller(client).gql(VERIFY, {"t": created["attemptToken"],
                                       "c": await smtp_server.code_for("lea@test.dmp")})).ok()
    account = await Account.get(email="lea@test.dmp")
    # The choice is kept, the number unconfirmed: the codes go by e-mail.
    assert account.code_channel == CodeChannel.SMS and not account.phone_verified
    assert destination(account) == (CodeChannel.EMAIL, "lea@test.dmp")
    smtp_server.clear()
    await _codes_go_by_email(client, smtp_server, account, ins)

    # Once the patient confirms a number with the code texted to it, the channel chosen applies.
    caller = Caller(client, session=await session_for(account))
    (await caller.gql(FRESH)).ok()
    (await caller.gql("mutation($c: String!) { confirmFreshFactor(code: $c) }",
                      {"c": await smtp_server.code_for("lea@test.dmp")})).ok()
    own = "06 12 34 56 78"
    (await caller.gql(CHANGE_PHONE, {"p": own})).ok()
    await smtp_server.deliver()
    (await caller.gql(CONFIRM_PHONE, {"c": sms_code_for(own)})).ok()
    assert (await caller.gql(CHANNEL)).ok() == {"me": {"codeChannel": "SMS"}}
    started = await start(client, "lea@test.dmp", STRONG)
    assert started["codeSentTo"] == "•• •• •• •• 78"
    assert MISTYPED not in await _texts()


async def test_a_number_typed_at_a_contact_recovery_gets_no_code_until_confirmed(
    client: httpx.AsyncClient, smtp_server: SmtpServer
) -> None:
    patient, record = await factories.patient(email="lea.old@test.dmp", phone="06 00 00 00 01")
    await Account.filter(id=patient.id).update(code_channel=CodeChannel.SMS)
    support = Caller(client, session=await session_for(await factories.support()))
    (await support.gql(RECOVER, {"i": record.ins})).ok()
    code = await _activation_code(client, record.ins, record.first_name, record.last_name,
                                  record.birth_date.isoformat())
    created = (await Caller(client).gql(CREATE, {"input": {
        "ins": record.ins, "activationCode": code, "email": "lea@test.dmp", "phone": MISTYPED,
        "password": STRONG, "codeChannel": "SMS"}})).ok()["createRecord"]
    (await Caller(client).gql(VERIFY, {"t": created["attemptToken"],
                                       "c": await smtp_server.code_for("lea@test.dmp")})).ok()
    account = await Account.get(id=patient.id)
    assert account.phone == MISTYPED and not account.phone_verified
    assert account.code_channel == CodeChannel.SMS
    await OutboxMessage.filter(channel="SMS").delete()  # none of the number of before counts
    smtp_server.clear()
    await _codes_go_by_email(client, smtp_server, account, record.ins)


async def test_a_locked_login_names_the_address_codes_would_go_to(
    client: httpx.AsyncClient, smtp_server: SmtpServer
) -> None:
    """A locked account sends no code, and its answer names the e-mail address all the same,
    as any other account's (never the unconfirmed number)."""
    account, _ = await factories.patient(email="lea@test.dmp", phone=MISTYPED)
    await Account.filter(id=account.id).update(
        code_channel=CodeChannel.SMS, phone_verified=False, locked_at=clock.now()
    )
    started = await start(client, "lea@test.dmp", factories.PASSWORD)
    assert started["codeSentTo"] == EMAIL_MASKED
    assert await _texts() == []


async def test_an_account_with_no_address_and_an_unconfirmed_number_gets_no_text() -> None:
    account, _ = await factories.patient(phone=MISTYPED)
    await Account.filter(id=account.id).update(email=None, phone_verified=False, code_channel=CodeChannel.SMS)
    bare = await Account.get(id=account.id)
    # As an account with no contact at all: an address nothing reaches, never the number.
    assert destination(bare) == (CodeChannel.EMAIL, "")
    await Account.filter(id=account.id).update(phone_verified=True)
    assert destination(await Account.get(id=account.id)) == (CodeChannel.SMS, MISTYPED)

