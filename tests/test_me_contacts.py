"""`me { email phone codeChannel }`: the signed-in account's own contacts, to itself only."""

from __future__ import annotations

import httpx

from backend import accounts
from backend.domain.enums import CodeChannel
from backend.models import Account
from tests import factories
from tests.auth_flows import start
from tests.conftest import Caller, session_for
from tests.passkey_flows import begin_login, register
from tests.smtp import SmtpServer
from tests.soft_authenticator import SoftAuthenticator
from tests.test_authz_reading import count_queries

ME = "{ me { email phone codeChannel } }"
NOTHING = {"email": None, "phone": None, "codeChannel": None}


async def test_an_account_reads_its_own_contacts(client: httpx.AsyncClient) -> None:
    patient, _ = await factories.patient(email="alice.contacts@test.dmp", phone="+33612345678")
    me = (await Caller(client, session=await session_for(patient)).gql(ME)).ok()["me"]
    assert (me["email"], me["phone"]) == ("alice.contacts@test.dmp", "+33612345678")
    pro, _ = await factories.practitioner()
    me = (await Caller(client, session=await session_for(pro)).gql(ME)).ok()["me"]
    assert me["email"] == pro.email and me["phone"] is None


async def test_no_contacts_for_a_partner_token_or_anonymous(client: httpx.AsyncClient) -> None:
    pro, practitioner = await factories.practitioner()
    _, token = await accounts.create_token("cabinet", ["practitioner"], practitioner_rpps=practitioner.rpps)
    me = (await Caller(client, token=token).gql(ME)).ok()["me"]
    # The token acts for the practitioner's account, whose code channel is not its to read either.
    assert me == NOTHING
    assert (await Caller(client, session=await session_for(pro)).gql(ME)).ok()["me"]["codeChannel"] == "EMAIL"
    _, insurer = await accounts.create_token("cpam", ["insurer:import"], organization="CPAM")
    me = (await Caller(client, token=insurer).gql(ME)).ok()["me"]
    assert me == NOTHING
    assert (await Caller(client).gql(ME)).ok()["me"] is None


async def test_the_contacts_and_code_channel_are_read_in_one_statement(client: httpx.AsyncClient) -> None:
    patient, _ = await factories.patient(email="bea.contacts@test.dmp", phone="+33612345679")
    caller = Caller(client, session=await session_for(patient))
    (await caller.gql("{ me { id } }")).ok()  # warm up: the session's touch
    with count_queries() as bare:
        (await caller.gql("{ me { id } }")).ok()
    with count_queries() as one:
        (await caller.gql("{ me { email } }")).ok()
    with count_queries() as three:
        me = (await caller.gql(ME)).ok()["me"]
    # Twice `me` in one request still reads the account once.
    with count_queries() as aliased:
        both = (await caller.gql("{ a: me { email } b: me { phone codeChannel } }")).ok()
    assert me == {"email": "bea.contacts@test.dmp", "phone": "+33612345679", "codeChannel": "EMAIL"}
    assert both == {"a": {"email": me["email"]}, "b": {"phone": me["phone"], "codeChannel": "EMAIL"}}
    assert len(one) == len(bare) + 1
    assert len(three) == len(aliased) == len(one)


LOGIN_ME = "me { id email phone codeChannel }"
COMPLETE = f"""mutation($t: String!, $c: String!) {{
  completeLogin(attemptToken: $t, code: $c) {{ {LOGIN_ME} }} }}"""
FINISH_PASSKEY = f"""mutation($c: String!) {{ finishPasskeyLogin(credentialJson: $c) {{ {LOGIN_ME} }} }}"""


async def _signed_in_elsewhere() -> str:
    """The session of another account, B, whose contacts and channel all differ from A's."""
    other, _ = await factories.patient(email="bob.before@test.dmp", phone="+33698765432")
    await Account.filter(id=other.id).update(code_channel=CodeChannel.SMS)
    return await session_for(other)


def _contacts_of(account: Account, phone: str) -> dict[str, str | None]:
    return {"id": str(account.id), "email": account.email, "phone": phone, "codeChannel": "EMAIL"}


async def test_the_me_of_a_completed_login_is_the_account_signed_in(
    client: httpx.AsyncClient, smtp_server: SmtpServer
) -> None:
    account, _ = await factories.patient(email="alice.login@test.dmp", phone="+33611111111")
    for caller in (Caller(client, session=await _signed_in_elsewhere()), Caller(client)):
        started = await start(client, account.email or "", factories.PASSWORD)
        code = await smtp_server.code_for(account.email or "")
        result = await caller.gql(COMPLETE, {"t": started["attemptToken"], "c": code})
        # Not the contacts of the session the browser held before, nor none for a caller signed out.
        assert result.ok()["completeLogin"]["me"] == _contacts_of(account, "+33611111111")


async def test_the_me_of_a_passkey_login_is_the_account_signed_in(client: httpx.AsyncClient) -> None:
    account, _ = await factories.patient(email="alice.passkey@test.dmp", phone="+33622222222")
    authenticator = SoftAuthenticator()
    await register(Caller(client, session=await session_for(account)), authenticator)
    for caller in (Caller(client, session=await _signed_in_elsewhere()), Caller(client)):
        result = await caller.gql(FINISH_PASSKEY, {"c": authenticator.assertion(await begin_login(caller))})
        assert result.ok()["finishPasskeyLogin"]["me"] == _contacts_of(account, "+33622222222")
