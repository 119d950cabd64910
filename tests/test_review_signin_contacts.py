"""Review of the account's contact changes (changeEmail, changePhone): a code confirms only
the address or number it was sent to, two changes under way do not undo each other, and a
login or reset whose code went to the former address ends with the change."""

from __future__ import annotations

from typing import Any

import httpx

from backend.models import AccessEvent, Account, LoginAttempt
from backend.resolvers import auth as auth_resolvers
from tests import factories
from tests.auth_flows import COMPLETE, DO_RESET, NEW_PASSWORD, RESET, login, start
from tests.conftest import Caller
from tests.smtp import SmtpServer, sms_code_for

CHANGE_EMAIL = "mutation($e: String!) { changeEmail(newEmail: $e) { sentTo } }"
CONFIRM_EMAIL = "mutation($c: String!) { confirmEmailChange(code: $c) }"
CHANGE_PHONE = "mutation($p: String!) { changePhone(newPhone: $p) { sentTo } }"
CONFIRM_PHONE = "mutation($c: String!) { confirmPhoneChange(code: $c) }"


async def _signed_in(client: httpx.AsyncClient, smtp: SmtpServer) -> tuple[Account, Caller]:
    account, _ = await factories.patient()
    cookie = await login(client, smtp, account.email or "", factories.PASSWORD, account.email or "")
    smtp.clear()
    return account, Caller(client, session=cookie)


def _reason(result: Any) -> str:
    return str(result.errors[0]["extensions"].get("reason") or result.errors[0]["extensions"]["code"])


async def test_a_code_sent_for_one_address_never_confirms_another_set_meanwhile(
    client: httpx.AsyncClient, smtp_server: SmtpServer, monkeypatch: Any
) -> None:
    """Two sessions change the address at once: the second's change lands between the first's
    writing its address and sending its code. The first session's code, sent to the first
    address, used to confirm the second one, which nobody proved (and mark it verified)."""
    account, first = await _signed_in(client, smtp_server)
    email = account.email or ""
    second = Caller(client, session=await login(client, smtp_server, email, factories.PASSWORD, email))
    smtp_server.clear()
    real_send = auth_resolvers.send_code
    interleaved: list[bool] = []

    async def send_after_the_other_change(*args: Any, **kwargs: Any) -> str:
        if not interleaved:
            interleaved.append(True)
            (await second.gql(CHANGE_EMAIL, {"e": "seconde@test.dmp"})).ok()
        return await real_send(*args, **kwargs)

    monkeypatch.setattr(auth_resolvers, "send_code", send_after_the_other_change)
    (await first.gql(CHANGE_EMAIL, {"e": "premiere@test.dmp"})).ok()
    monkeypatch.setattr(auth_resolvers, "send_code", real_send)
    assert (await Account.get(id=account.id)).pending_email == "seconde@test.dmp"
    sent_to_first = await smtp_server.code_for("premiere@test.dmp")
    refused = await first.gql(CONFIRM_EMAIL, {"c": sent_to_first})
    assert refused.data is None and _reason(refused) == "WRONG_CODE"
    after = await Account.get(id=account.id)
    assert (after.email, after.pending_email) == (email, "seconde@test.dmp")
    assert not await AccessEvent.filter(action="SECURITY_CHANGED").exists()
    # The second address is confirmed by the code sent to it, in its own session.
    sent_to_second = await smtp_server.code_for("seconde@test.dmp")
    assert (await second.gql(CONFIRM_EMAIL, {"c": sent_to_second})).ok() == {"confirmEmailChange": True}
    assert (await Account.get(id=account.id)).email == "seconde@test.dmp"


async def test_a_phone_change_and_an_email_change_in_one_session_both_complete(
    client: httpx.AsyncClient, smtp_server: SmtpServer
) -> None:
    """The e-mail change's code used to retire the phone change's code of the same session
    (one binding for both): the number could then not be confirmed until asked again."""
    account, caller = await _signed_in(client, smtp_server)
    phone = "+33 6 12 34 56 78"
    (await caller.gql(CHANGE_PHONE, {"p": phone})).ok()
    (await caller.gql(CHANGE_EMAIL, {"e": "autre.adresse@test.dmp"})).ok()
    await smtp_server.deliver()
    assert (await caller.gql(CONFIRM_PHONE, {"c": sms_code_for(phone)})).ok() == {"confirmPhoneChange": True}
    code = await smtp_server.code_for("autre.adresse@test.dmp")
    assert (await caller.gql(CONFIRM_EMAIL, {"c": code})).ok() == {"confirmEmailChange": True}
    after = await Account.get(id=account.id)
    assert (after.phone, after.email) == (phone, "autre.adresse@test.dmp")


async def test_a_login_whose_code_went_to_the_former_address_ends_with_the_change(
    client: httpx.AsyncClient, smtp_server: SmtpServer
) -> None:
    """The patient changes address because the former mailbox is no longer theirs: a login
    begun just before by whoever knows the password, its code in that mailbox, used to
    complete after the change; so did a reset whose code went there."""
    account, caller = await _signed_in(client, smtp_server)
    old = account.email or ""
    started = await start(client, old, factories.PASSWORD)
    login_code = await smtp_server.code_for(old)
    reset = (await Caller(client).gql(RESET, {"i": old})).ok()["requestPasswordReset"]["attemptToken"]
    reset_code = await smtp_server.code_for(old)
    (await caller.gql(CHANGE_EMAIL, {"e": "nouvelle.boite@test.dmp"})).ok()
    code = await smtp_server.code_for("nouvelle.boite@test.dmp")
    assert (await caller.gql(CONFIRM_EMAIL, {"c": code})).ok() == {"confirmEmailChange": True}
    late = await Caller(client).gql(COMPLETE, {"t": started["attemptToken"], "c": login_code})
    assert late.data is None and _reason(late) == "ATTEMPT_EXPIRED"
    late_reset = await Caller(client).gql(DO_RESET, {"t": reset, "c": reset_code, "p": NEW_PASSWORD})
    assert late_reset.data is None and _reason(late_reset) == "ATTEMPT_EXPIRED"
    assert (await Account.get(id=account.id)).password_hash == account.password_hash
    assert not await LoginAttempt.filter(account_id=account.id, completed_at=None).exists()
    # The session that made the change goes on; the new address signs in.
    assert (await caller.gql("{ me { id } }")).ok()["me"] is not None
    await login(client, smtp_server, "nouvelle.boite@test.dmp", factories.PASSWORD, "nouvelle.boite@test.dmp")


async def test_a_change_asked_while_an_earlier_one_is_confirmed_replaces_it(
    client: httpx.AsyncClient, smtp_server: SmtpServer, monkeypatch: Any
) -> None:
    """A new address asked from another session replaces the one waiting (« one change at a
    time »). Asked while the earlier one's code was being checked, it used to be wiped out by
    that confirmation, which then set the replaced address; the later code confirmed nothing."""
    account, first = await _signed_in(client, smtp_server)
    email = account.email or ""
    second = Caller(client, session=await login(client, smtp_server, email, factories.PASSWORD, email))
    smtp_server.clear()
    (await first.gql(CHANGE_EMAIL, {"e": "ancienne.demande@test.dmp"})).ok()
    code = await smtp_server.code_for("ancienne.demande@test.dmp")
    real_verify = auth_resolvers.verify
    ran: list[bool] = []

    async def verify_then_the_other_change(*args: Any, **kwargs: Any) -> Any:
        verdict = await real_verify(*args, **kwargs)
        if not ran:
            ran.append(True)
            (await second.gql(CHANGE_EMAIL, {"e": "nouvelle.demande@test.dmp"})).ok()
        return verdict

    monkeypatch.setattr(auth_resolvers, "verify", verify_then_the_other_change)
    refused = await first.gql(CONFIRM_EMAIL, {"c": code})
    monkeypatch.setattr(auth_resolvers, "verify", real_verify)
    assert ran and refused.data is None and _reason(refused) == "NO_PENDING_CHANGE"
    after = await Account.get(id=account.id)
    assert (after.email, after.pending_email) == (email, "nouvelle.demande@test.dmp")
    assert not await AccessEvent.filter(action="SECURITY_CHANGED").exists()
    later = await smtp_server.code_for("nouvelle.demande@test.dmp")
    assert (await second.gql(CONFIRM_EMAIL, {"c": later})).ok() == {"confirmEmailChange": True}
    assert (await Account.get(id=account.id)).email == "nouvelle.demande@test.dmp"
