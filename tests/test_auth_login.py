"""Signing in: password, then a one-time code read from a real SMTP server (DESIGN §5)."""

from __future__ import annotations

import httpx
import pytest

from backend.auth.passwords import HASHER
from backend.config import Settings
from backend.models import Account, LoginAttempt, OneTimeCode, OutboxMessage, Session
from tests import factories
from tests.auth_flows import COMPLETE, ME, START, login, session_cookie, start, wrong
from tests.conftest import Caller
from tests.smtp import SmtpServer


async def test_patient_logs_in_with_email_and_code(
    client: httpx.AsyncClient, smtp_server: SmtpServer
) -> None:
    account, _ = await factories.patient()
    started = await start(client, account.email or "", factories.PASSWORD)
    assert started["factors"] == ["CODE"]
    assert started["codeSentTo"] == f"{account.email[0]}•••@t•••.dmp"  # type: ignore[index]
    code = await smtp_server.code_for(account.email or "")
    stored = await OneTimeCode.get(account_id=account.id)
    assert code not in stored.code_hash and len(stored.code_hash) == 64
    result = await Caller(client).gql(COMPLETE, {"t": started["attemptToken"], "c": code})
    me = result.ok()["completeLogin"]["me"]
    assert me["role"] == "PATIENT" and me["id"] == str(account.id)
    cookie = session_cookie(result)
    assert cookie and "httponly" in result.response.headers["set-cookie"].lower()
    assert "samesite=strict" in result.response.headers["set-cookie"].lower()
    assert (await Caller(client, session=cookie).gql(ME)).ok()["me"]["id"] == str(account.id)
    assert (await OneTimeCode.get(account_id=account.id)).used_at is not None
    assert (await LoginAttempt.get(account_id=account.id)).completed_at is not None
    # A code is single use.
    again = await Caller(client).gql(COMPLETE, {"t": started["attemptToken"], "c": code})
    assert again.codes == ["BAD_USER_INPUT"] and again.data is None
    assert await Session.filter(account_id=account.id).count() == 1


async def test_patient_logs_in_with_ins(client: httpx.AsyncClient, smtp_server: SmtpServer) -> None:
    account, record = await factories.patient()
    cookie = await login(client, smtp_server, record.ins, factories.PASSWORD, account.email or "")
    assert (await Caller(client, session=cookie).gql(ME)).ok()["me"]["role"] == "PATIENT"


async def test_practitioner_logs_in_with_rpps_and_email(
    client: httpx.AsyncClient, smtp_server: SmtpServer
) -> None:
    account, practitioner = await factories.practitioner()
    for identifier in (practitioner.rpps, account.email or ""):
        cookie = await login(client, smtp_server, identifier, factories.PASSWORD, account.email or "")
        me = (await Caller(client, session=cookie).gql(ME)).ok()["me"]
        assert me["role"] == "PRACTITIONER" and me["profession"] == "medecin"


async def test_support_logs_in(client: httpx.AsyncClient, smtp_server: SmtpServer) -> None:
    account = await factories.support()
    cookie = await login(client, smtp_server, account.email or "", factories.PASSWORD, account.email or "")
    assert (await Caller(client, session=cookie).gql(ME)).ok()["me"]["role"] == "SUPPORT"


async def test_wrong_code_refused_then_right_code_accepted(
    client: httpx.AsyncClient, smtp_server: SmtpServer
) -> None:
    account, _ = await factories.patient()
    started = await start(client, account.email or "", factories.PASSWORD)
    code = await smtp_server.code_for(account.email or "")
    bad = await Caller(client).gql(COMPLETE, {"t": started["attemptToken"], "c": wrong(code)})
    assert bad.codes == ["BAD_USER_INPUT"] and session_cookie(bad) is None
    assert await Session.filter(account_id=account.id).count() == 0
    good = await Caller(client).gql(COMPLETE, {"t": started["attemptToken"], "c": code})
    good.ok()
    assert (await Account.get(id=account.id)).failure_count == 1


async def test_login_renews_the_session(client: httpx.AsyncClient, smtp_server: SmtpServer) -> None:
    account, _ = await factories.patient()
    first = await login(client, smtp_server, account.email or "", factories.PASSWORD, account.email or "")
    started = (await Caller(client, session=first).gql(
        START, {"i": account.email, "p": factories.PASSWORD})).ok()["startLogin"]
    code = await smtp_server.code_for(account.email or "")
    result = await Caller(client, session=first).gql(COMPLETE, {"t": started["attemptToken"], "c": code})
    second = session_cookie(result)
    assert second and second != first
    assert (await Caller(client, session=first).gql(ME)).ok()["me"] is None
    assert (await Caller(client, session=second).gql(ME)).ok()["me"]["id"] == str(account.id)


async def test_code_by_sms(client: httpx.AsyncClient, smtp_server: SmtpServer) -> None:
    from backend.domain.enums import CodeChannel
    from tests.smtp import sms_code_for

    account, _ = await factories.patient(phone="+33 6 11 22 33 44")
    await Account.filter(id=account.id).update(code_channel=CodeChannel.SMS)
    started = await start(client, account.email or "", factories.PASSWORD)
    assert started["codeSentTo"] == "•• •• •• •• 44"
    await smtp_server.deliver()
    assert smtp_server.to(account.email or "") == []
    code = sms_code_for("+33 6 11 22 33 44")
    (await Caller(client).gql(COMPLETE, {"t": started["attemptToken"], "c": code})).ok()


async def test_codes_go_by_email_where_texts_are_not_sent(
    client: httpx.AsyncClient, smtp_server: SmtpServer, monkeypatch: pytest.MonkeyPatch,
    texts_not_sent: Settings,
) -> None:
    """In production without an SMS plug-in, texts are only saved as files: a patient whose
    codes go by SMS gets them by e-mail, and is told so, instead of being locked out."""
    import dataclasses

    from backend.auth import contacts
    from backend.domain.enums import CodeChannel

    account, _ = await factories.patient(phone="+33 6 11 22 33 55")
    await Account.filter(id=account.id).update(code_channel=CodeChannel.SMS)
    started = await start(client, account.email or "", factories.PASSWORD)
    assert started["codeSentTo"] == contacts.mask_email(account.email or "")
    code = await smtp_server.code_for(account.email or "")
    (await Caller(client).gql(COMPLETE, {"t": started["attemptToken"], "c": code})).ok()
    assert await OutboxMessage.filter(channel="SMS", recipient="+33 6 11 22 33 55").count() == 0

    # With a plug-in set, the same patient's codes go by SMS again.
    monkeypatch.setattr(contacts, "settings", lambda: dataclasses.replace(texts_not_sent, sms_backend="acme"))
    started = await start(client, account.email or "", factories.PASSWORD)
    assert started["codeSentTo"] == "•• •• •• •• 55"
    assert await OutboxMessage.filter(channel="SMS", recipient="+33 6 11 22 33 55").count() == 1


async def test_password_rehashed_when_parameters_change(
    client: httpx.AsyncClient, smtp_server: SmtpServer
) -> None:
    from argon2 import PasswordHasher

    account, _ = await factories.patient()
    weak = PasswordHasher(time_cost=1, memory_cost=8 * 1024, parallelism=1)
    await Account.filter(id=account.id).update(password_hash=weak.hash(factories.PASSWORD))
    await start(client, account.email or "", factories.PASSWORD)
    stored = (await Account.get(id=account.id)).password_hash or ""
    assert not HASHER.check_needs_rehash(stored)
    assert HASHER.verify(stored, factories.PASSWORD)


async def test_passkey_listed_when_the_account_has_one(client: httpx.AsyncClient) -> None:
    from backend.models import PasskeyCredential

    account, _ = await factories.patient()
    await PasskeyCredential.create(account=account, credential_id="cred-1", public_key=b"k", name="phone")
    started = await start(client, account.email or "", factories.PASSWORD)
    assert started["factors"] == ["CODE", "PASSKEY"]
