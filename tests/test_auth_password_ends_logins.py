"""A new password ends the sign-ins begun with the old one (DESIGN §5).

Whoever knew the old password may have started a login (its code waiting) or a reset just
before the patient changed or reset it: none of them completes afterwards.
"""

from __future__ import annotations

import httpx

from backend.auth.passwords import HASHER
from backend.models import Account, Session
from tests import factories
from tests.auth_flows import (
    CHANGE_PASSWORD,
    COMPLETE,
    DO_RESET,
    NEW_PASSWORD,
    RESET,
    login,
    start,
)
from tests.conftest import Caller, session_for
from tests.smtp import SmtpServer


async def _login_begun_with_the_old_password(
    client: httpx.AsyncClient, smtp: SmtpServer, account: Account
) -> tuple[str, str]:
    """A login past the password, and the code it sent: the attempt token and the code."""
    email = account.email or ""
    started = await start(client, email, factories.PASSWORD)
    code = await smtp.code_for(email)
    smtp.clear()
    return str(started["attemptToken"]), code


async def test_a_reset_ends_a_login_begun_with_the_old_password(
    client: httpx.AsyncClient, smtp_server: SmtpServer
) -> None:
    account, _ = await factories.patient()
    email = account.email or ""
    token, login_code = await _login_begun_with_the_old_password(client, smtp_server, account)
    # A second reset, asked before the first one is used, dies with it too.
    first = (await Caller(client).gql(RESET, {"i": email})).ok()["requestPasswordReset"]["attemptToken"]
    first_code = await smtp_server.code_for(email)
    smtp_server.clear()
    second = (await Caller(client).gql(RESET, {"i": email})).ok()["requestPasswordReset"]["attemptToken"]
    second_code = await smtp_server.code_for(email)
    smtp_server.clear()
    done = await Caller(client).gql(DO_RESET, {"t": second, "c": second_code, "p": NEW_PASSWORD})
    assert done.ok() == {"resetPassword": True}
    assert await Session.all().count() == 0

    late = await Caller(client).gql(COMPLETE, {"t": token, "c": login_code})
    assert late.codes == ["BAD_USER_INPUT"], late.errors
    assert await Session.all().count() == 0
    variables = {"t": first, "c": first_code, "p": "une autre phrase encore 9"}
    other = await Caller(client).gql(DO_RESET, variables)
    assert other.codes == ["BAD_USER_INPUT"], other.errors
    assert HASHER.verify((await Account.get(id=account.id)).password_hash or "", NEW_PASSWORD)
    # The new password signs in.
    await login(client, smtp_server, email, NEW_PASSWORD, email)


async def test_a_change_ends_a_login_begun_with_the_old_password(
    client: httpx.AsyncClient, smtp_server: SmtpServer
) -> None:
    account, _ = await factories.patient()
    email = account.email or ""
    cookie = await login(client, smtp_server, email, factories.PASSWORD, email)
    smtp_server.clear()
    token, login_code = await _login_begun_with_the_old_password(client, smtp_server, account)
    caller = Caller(client, session=cookie)
    done = await caller.gql(CHANGE_PASSWORD, {"o": factories.PASSWORD, "n": NEW_PASSWORD})
    assert done.ok() == {"changePassword": True}
    sessions = await Session.filter(revoked_at=None).count()

    late = await Caller(client).gql(COMPLETE, {"t": token, "c": login_code})
    assert late.codes == ["BAD_USER_INPUT"], late.errors
    assert await Session.filter(revoked_at=None).count() == sessions == 1


async def test_a_contact_recovery_ends_a_login_begun_with_the_old_password(
    client: httpx.AsyncClient, smtp_server: SmtpServer
) -> None:
    """A patient who lost their contacts (perhaps to someone who also knew the password) gets
    new ones and a new password: a login or a reset begun before, whose code went to the lost
    address, no longer completes."""
    patient, record = await factories.patient(email="lost.box@test.dmp")
    doctor, _ = await factories.practitioner()
    agent = await factories.support()
    token, login_code = await _login_begun_with_the_old_password(client, smtp_server, patient)
    asked = (await Caller(client).gql(RESET, {"i": patient.email})).ok()
    reset = asked["requestPasswordReset"]["attemptToken"]
    reset_code = await smtp_server.code_for(patient.email or "")
    smtp_server.clear()
    support = Caller(client, session=await session_for(agent))
    recovery = "mutation($i: String!) { startContactRecovery(identifier: $i) }"
    assert (await support.gql(recovery, {"i": record.ins})).ok()
    open_record = f"""mutation($ins: String!) {{ openRecordForPatient(input: {{ins: $ins,
        firstName: "{record.first_name}", lastName: "{record.last_name}", birthDate: "1985-06-12"}})
        {{ activationCode }} }}"""
    doctor_caller = Caller(client, session=await session_for(doctor))
    code = (await doctor_caller.gql(open_record, {"ins": record.ins})).ok()["openRecordForPatient"]
    create = """mutation($ins: String!, $code: String!) {
        createRecord(input: {ins: $ins, activationCode: $code, email: "found.box@test.dmp",
                             password: "a-brand-new-passphrase"}) { attemptToken sentTo } }"""
    created = await Caller(client).gql(create, {"ins": record.ins, "code": code["activationCode"]})
    assert created.ok()["createRecord"]["attemptToken"]
    sessions = await Session.filter(account_id=patient.id, revoked_at=None).count()

    late = await Caller(client).gql(COMPLETE, {"t": token, "c": login_code})
    assert late.codes == ["BAD_USER_INPUT"], late.errors
    variables = {"t": reset, "c": reset_code, "p": "une autre phrase encore 9"}
    other = await Caller(client).gql(DO_RESET, variables)
    assert other.codes == ["BAD_USER_INPUT"], other.errors
    assert await Session.filter(account_id=patient.id, revoked_at=None).count() == sessions
    assert HASHER.verify((await Account.get(id=patient.id)).password_hash or "", "a-brand-new-passphrase")
