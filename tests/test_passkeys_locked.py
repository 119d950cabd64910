"""A passkey and an account whose code login is locked (ten wrong codes in a day, which
anyone who knows the password can type): the passkey still signs in, alone or after the
password; the lock stays for codes until support lifts it."""

from __future__ import annotations

import json

import httpx

from backend.auth.limits import DAILY_CODE_FAILURES
from backend.models import Account, LoginAttempt, OneTimeCode, PasskeyCredential, Session
from tests import factories
from tests.auth_flows import COMPLETE, start, wrong
from tests.conftest import Caller, session_for
from tests.passkey_flows import begin_login, cookie_set, finish_login, register, stored
from tests.smtp import SmtpServer
from tests.soft_authenticator import SoftAuthenticator, SoftCredential


async def locked_by_a_stranger(
    client: httpx.AsyncClient, smtp_server: SmtpServer
) -> tuple[Account, SoftAuthenticator, SoftCredential]:
    """A patient with a passkey, whose password a stranger learnt and typed ten wrong codes with."""
    account, _ = await factories.patient()
    authenticator = SoftAuthenticator()
    cred = await register(Caller(client, session=await session_for(account)), authenticator)
    await Session.all().delete()
    email = account.email or ""
    for _ in range(2):
        token = str((await start(client, email, factories.PASSWORD))["attemptToken"])
        code = await smtp_server.code_for(email)
        for _ in range(DAILY_CODE_FAILURES // 2):
            await Caller(client).gql(COMPLETE, {"t": token, "c": wrong(code)})
    locked = await Account.get(id=account.id)
    assert locked.locked_at is not None
    return locked, authenticator, cred


async def test_a_locked_code_login_does_not_stop_a_passkey_alone(
    client: httpx.AsyncClient, smtp_server: SmtpServer
) -> None:
    """It answered FORBIDDEN: a stranger with the password locked the patient out of their
    record, passkey included, until support acted."""
    account, authenticator, cred = await locked_by_a_stranger(client, smtp_server)
    result = await finish_login(Caller(client), authenticator.assertion(await begin_login(Caller(client))))
    assert result.ok()["finishPasskeyLogin"]["me"]["id"] == str(account.id)
    assert cookie_set(result)
    assert await Session.filter(account_id=account.id).count() == 1
    assert (await stored(cred)).last_used_at is not None
    # The lock is of code login, and stays: support lifts it.
    assert (await Account.get(id=account.id)).locked_at is not None
    codes = await OneTimeCode.filter(account_id=account.id).count()
    started = await start(client, account.email or "", factories.PASSWORD)
    assert await OneTimeCode.filter(account_id=account.id).count() == codes
    result = await Caller(client).gql(COMPLETE, {"t": started["attemptToken"], "c": "123456"})
    assert result.codes == ["BAD_USER_INPUT"]
    assert await Session.filter(account_id=account.id).count() == 1


async def test_a_locked_code_login_does_not_stop_a_passkey_after_the_password(
    client: httpx.AsyncClient, smtp_server: SmtpServer
) -> None:
    """startLogin offers PASSKEY to a locked account's right password, with a decoy attempt:
    the patient's own passkey answered "could not be verified"."""
    account, authenticator, _ = await locked_by_a_stranger(client, smtp_server)
    started = await start(client, account.email or "", factories.PASSWORD)
    assert "PASSKEY" in started["factors"]  # type: ignore[operator]
    token = str(started["attemptToken"])
    options = await begin_login(Caller(client), token)
    assert json.loads(options)["allowCredentials"] == []  # a decoy's: none listed
    result = await finish_login(Caller(client), authenticator.assertion(options), token)
    assert result.ok()["finishPasskeyLogin"]["me"]["id"] == str(account.id)
    assert await Session.filter(account_id=account.id).count() == 1
    assert await LoginAttempt.filter(completed_at__isnull=False, account_id=account.id).count() >= 1


async def test_a_locked_account_refuses_a_passkey_that_is_not_its_own(
    client: httpx.AsyncClient, smtp_server: SmtpServer
) -> None:
    account, _, cred = await locked_by_a_stranger(client, smtp_server)
    stranger, _ = await factories.patient()
    theirs = SoftAuthenticator()
    await register(Caller(client, session=await session_for(stranger)), theirs)
    await Session.all().delete()
    token = str((await start(client, account.email or "", factories.PASSWORD))["attemptToken"])
    result = await finish_login(
        Caller(client), theirs.assertion(await begin_login(Caller(client), token)), token
    )
    assert result.codes == ["BAD_USER_INPUT"]
    assert await Session.all().count() == 0
    assert not cookie_set(result)
    assert (await PasskeyCredential.get(credential_id=cred.id)).last_used_at is None


async def test_after_a_wrong_password_the_accounts_own_passkey_signs_in(
    client: httpx.AsyncClient,
) -> None:
    """The decoy of a wrong password lists no passkey, but the account's own, offered by the
    browser as a discoverable credential, signs in as it would alone (passwordless): it was
    refused as "could not be verified", which protected nothing."""
    account, _ = await factories.patient()
    authenticator = SoftAuthenticator()
    cred = await register(Caller(client, session=await session_for(account)), authenticator)
    await Session.all().delete()
    started = await start(client, account.email or "", "not the password at all 12")
    token = str(started["attemptToken"])
    options = await begin_login(Caller(client), token)
    assert json.loads(options)["allowCredentials"] == []
    result = await finish_login(Caller(client), authenticator.assertion(options), token)
    assert result.ok()["finishPasskeyLogin"]["me"]["id"] == str(account.id)
    assert await Session.filter(account_id=account.id).count() == 1
    assert (await stored(cred)).last_used_at is not None
    # The attempt is finished: it opens nothing more.
    again = await Caller(client).gql(
        "mutation($t: String) { beginPasskeyLogin(attemptToken: $t) { optionsJson } }", {"t": token}
    )
    assert again.codes == ["BAD_USER_INPUT"]
