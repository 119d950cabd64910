"""Password reset, fresh second factor, and changes to how the account signs in (DESIGN §5)."""

from __future__ import annotations

from datetime import timedelta

import httpx
import pytest

from backend import clock
from backend.auth.limits import DAILY_CODE_FAILURES
from backend.auth.passwords import HASHER
from backend.domain.enums import CodePurpose
from backend.models import AccessEvent, Account, OneTimeCode, Session
from tests import factories
from tests.auth_flows import (
    CHANGE_PASSWORD,
    CONFIRM_FRESH,
    DO_RESET,
    FRESH,
    ME,
    NEW_PASSWORD,
    RESET,
    login,
    session_cookie,
    start,
    wrong,
)
from tests.conftest import Caller, session_for
from tests.smtp import SmtpServer, sms_code_for

CHANGE_EMAIL = "mutation($e: String!) { changeEmail(newEmail: $e) { sentTo } }"
CONFIRM_EMAIL = "mutation($c: String!) { confirmEmailChange(code: $c) }"
CHANGE_PHONE = "mutation($p: String!) { changePhone(newPhone: $p) { sentTo } }"
CONFIRM_PHONE = "mutation($c: String!) { confirmPhoneChange(code: $c) }"
CHANNEL = "mutation($c: CodeChannel!) { setCodeChannel(channel: $c) }"


async def _signed_in(client: httpx.AsyncClient, smtp: SmtpServer) -> tuple[Account, Caller]:
    account, _ = await factories.patient()
    cookie = await login(client, smtp, account.email or "", factories.PASSWORD, account.email or "")
    smtp.clear()
    return account, Caller(client, session=cookie)


async def _stale(client: httpx.AsyncClient, smtp: SmtpServer) -> tuple[Account, Caller]:
    """Signed in more than ten minutes ago: the login's second factor is no longer fresh."""
    account, caller = await _signed_in(client, smtp)
    clock.shift(timedelta(minutes=11))
    return account, caller


async def test_password_reset(client: httpx.AsyncClient, smtp_server: SmtpServer) -> None:
    account, caller = await _signed_in(client, smtp_server)
    requested = (await Caller(client).gql(RESET, {"i": account.email})).ok()
    token = requested["requestPasswordReset"]["attemptToken"]
    code = await smtp_server.code_for(account.email or "")
    weak = await Caller(client).gql(DO_RESET, {"t": token, "c": code, "p": "short"})
    assert weak.codes == ["BAD_USER_INPUT"]
    bad = await Caller(client).gql(DO_RESET, {"t": token, "c": wrong(code), "p": NEW_PASSWORD})
    assert bad.codes == ["BAD_USER_INPUT"]
    assert HASHER.verify((await Account.get(id=account.id)).password_hash or "", factories.PASSWORD)
    ok = await Caller(client).gql(DO_RESET, {"t": token, "c": code, "p": NEW_PASSWORD})
    assert ok.ok() == {"resetPassword": True}
    assert HASHER.verify((await Account.get(id=account.id)).password_hash or "", NEW_PASSWORD)
    # In the patient's history, as their own change.
    (event,) = await AccessEvent.filter(action="SECURITY_CHANGED")
    assert event.reason == "mot de passe réinitialisé" and event.actor_id == str(account.id)
    # Every session ended; the patient is told.
    assert (await caller.gql(ME)).ok()["me"] is None
    await smtp_server.deliver()
    assert any("réinitialisé" in m.subject for m in smtp_server.to(account.email or ""))
    # The token is single use; the new password works, the old one no longer does.
    again = await Caller(client).gql(DO_RESET, {"t": token, "c": code, "p": "encore une autre phrase 9"})
    assert again.codes == ["BAD_USER_INPUT"]
    await login(client, smtp_server, account.email or "", NEW_PASSWORD, account.email or "")
    smtp_server.clear()
    await start(client, account.email or "", factories.PASSWORD)
    assert await smtp_server.deliver() == 0


async def test_wrong_reset_codes_never_lock_sign_in(
    client: httpx.AsyncClient, smtp_server: SmtpServer
) -> None:
    """Anyone who knows an e-mail address may ask for a reset: its wrong codes end resets
    for the day after ten, but they do not lock the account's sign-in, which needs the
    password before a code."""
    account, _ = await factories.patient()
    email = account.email or ""
    answers = []
    for _ in range(3):  # three reset codes, five tries each
        token = (await Caller(client).gql(RESET, {"i": email})).ok()["requestPasswordReset"]["attemptToken"]
        code = await smtp_server.code_for(email)
        for _ in range(5):
            result = await Caller(client).gql(DO_RESET, {"t": token, "c": wrong(code), "p": NEW_PASSWORD})
            answers.append(result.codes[0])
    assert answers.count("BAD_USER_INPUT") == DAILY_CODE_FAILURES
    assert answers.count("RATE_LIMITED") == 15 - DAILY_CODE_FAILURES
    # Resets are over for today, even with the right code…
    token = (await Caller(client).gql(RESET, {"i": email})).ok()["requestPasswordReset"]["attemptToken"]
    code = await smtp_server.code_for(email)
    late = await Caller(client).gql(DO_RESET, {"t": token, "c": code, "p": NEW_PASSWORD})
    assert late.codes == ["RATE_LIMITED"]
    assert HASHER.verify((await Account.get(id=account.id)).password_hash or "", factories.PASSWORD)
    # …but the account is not locked, no lock notice went out, and its owner signs in.
    unlocked = await Account.get(id=account.id)
    assert unlocked.locked_at is None and unlocked.failure_count == 0
    await smtp_server.deliver()
    assert not [m for m in smtp_server.to(email) if "bloquée" in m.subject]
    smtp_server.clear()
    await login(client, smtp_server, email, factories.PASSWORD, email)
    # The next day, a reset works again.
    clock.shift(timedelta(days=1))
    smtp_server.clear()
    token = (await Caller(client).gql(RESET, {"i": email})).ok()["requestPasswordReset"]["attemptToken"]
    code = await smtp_server.code_for(email)
    ok = await Caller(client).gql(DO_RESET, {"t": token, "c": code, "p": NEW_PASSWORD})
    assert ok.ok() == {"resetPassword": True}


async def test_sensitive_changes_need_a_fresh_factor(
    client: httpx.AsyncClient, smtp_server: SmtpServer
) -> None:
    account, caller = await _stale(client, smtp_server)
    attempts = [
        (CHANGE_PASSWORD, {"o": factories.PASSWORD, "n": NEW_PASSWORD}),
        (CHANGE_EMAIL, {"e": "new@test.dmp"}),
        (CHANGE_PHONE, {"p": "+33 6 00 00 00 01"}),
        (CHANNEL, {"c": "EMAIL"}),
        (CONFIRM_EMAIL, {"c": "123456"}),
    ]
    for query, variables in attempts:
        result = await caller.gql(query, variables)
        assert result.codes == ["FORBIDDEN"], query
        assert "fresh second factor is required" in result.errors[0]["message"]
    after = await Account.get(id=account.id)
    assert after.password_hash == account.password_hash and after.pending_email is None
    assert after.pending_phone is None
    await smtp_server.deliver()
    assert smtp_server.messages == []


async def test_fresh_factor_then_change_password(client: httpx.AsyncClient, smtp_server: SmtpServer) -> None:
    account, caller = await _stale(client, smtp_server)
    other = await login(client, smtp_server, account.email or "", factories.PASSWORD, account.email or "")
    clock.shift(timedelta(minutes=11))
    smtp_server.clear()
    sent = (await caller.gql(FRESH)).ok()["requestFreshFactor"]["sentTo"]
    assert sent.endswith("@t•••.dmp")
    code = await smtp_server.code_for(account.email or "")
    assert (await caller.gql(CONFIRM_FRESH, {"c": wrong(code)})).codes == ["BAD_USER_INPUT"]
    assert (await caller.gql(CONFIRM_FRESH, {"c": code})).ok() == {"confirmFreshFactor": True}
    # A reset asked before the change (by whoever knew the old password) is dead after it.
    smtp_server.clear()
    asked = (await Caller(client).gql(RESET, {"i": account.email})).ok()
    reset = asked["requestPasswordReset"]["attemptToken"]
    reset_code = await smtp_server.code_for(account.email or "")
    wrong_current = await caller.gql(CHANGE_PASSWORD, {"o": "not my password 1", "n": NEW_PASSWORD})
    assert wrong_current.codes == ["BAD_USER_INPUT"]
    common = await caller.gql(CHANGE_PASSWORD, {"o": factories.PASSWORD, "n": "motdepasse1234"})
    assert common.codes == ["BAD_USER_INPUT"]
    done = await caller.gql(CHANGE_PASSWORD, {"o": factories.PASSWORD, "n": NEW_PASSWORD})
    assert done.ok() == {"changePassword": True}
    assert HASHER.verify((await Account.get(id=account.id)).password_hash or "", NEW_PASSWORD)
    assert (await caller.gql(ME)).ok()["me"] is not None
    assert (await Caller(client, session=other).gql(ME)).ok()["me"] is None
    late = await Caller(client).gql(DO_RESET, {"t": reset, "c": reset_code, "p": "une autre phrase encore 9"})
    assert late.codes and late.codes[0] in ("BAD_USER_INPUT", "RATE_LIMITED")
    assert HASHER.verify((await Account.get(id=account.id)).password_hash or "", NEW_PASSWORD)
    await smtp_server.deliver()
    assert any("mot de passe" in m.subject for m in smtp_server.to(account.email or ""))
    events = await AccessEvent.filter(action="SECURITY_CHANGED").values_list("reason", flat=True)
    assert list(events) == ["mot de passe modifié"]


async def test_fresh_factor_lasts_ten_minutes(client: httpx.AsyncClient, smtp_server: SmtpServer) -> None:
    account, caller = await _signed_in(client, smtp_server)
    # Just signed in: the login's code is a fresh factor.
    assert (await caller.gql(CHANNEL, {"c": "EMAIL"})).ok() == {"setCodeChannel": "EMAIL"}
    clock.shift(timedelta(minutes=10, seconds=30))
    assert (await caller.gql(CHANNEL, {"c": "EMAIL"})).codes == ["FORBIDDEN"]


async def test_change_email(client: httpx.AsyncClient, smtp_server: SmtpServer) -> None:
    account, caller = await _signed_in(client, smtp_server)
    old = account.email or ""
    taken, _ = await factories.patient()
    assert (await caller.gql(CHANGE_EMAIL, {"e": taken.email})).codes == ["BAD_USER_INPUT"]
    assert (await caller.gql(CHANGE_EMAIL, {"e": "not an address"})).codes == ["BAD_USER_INPUT"]
    sent = (await caller.gql(CHANGE_EMAIL, {"e": "Nouvelle@Test.dmp"})).ok()["changeEmail"]["sentTo"]
    assert sent == "n•••@t•••.dmp"
    assert (await Account.get(id=account.id)).email == old
    code = await smtp_server.code_for("nouvelle@test.dmp")
    assert (await caller.gql(CONFIRM_EMAIL, {"c": wrong(code)})).codes == ["BAD_USER_INPUT"]
    assert (await Account.get(id=account.id)).email == old
    assert (await caller.gql(CONFIRM_EMAIL, {"c": code})).ok() == {"confirmEmailChange": True}
    changed = await Account.get(id=account.id)
    assert changed.email == "nouvelle@test.dmp" and changed.pending_email is None and changed.email_verified
    await smtp_server.deliver()
    to_old = [m for m in smtp_server.to(old) if "e-mail" in m.subject]
    to_new = [m for m in smtp_server.to("nouvelle@test.dmp") if "e-mail" in m.subject]
    assert to_old and to_new
    # The former mailbox is told the new address masked; the new one, in full.
    assert all("nouvelle@test.dmp" not in m.body and "n•••@t•••.dmp" in m.body for m in to_old)
    assert any("nouvelle@test.dmp" in m.body for m in to_new)
    # The new address signs in.
    await login(client, smtp_server, "nouvelle@test.dmp", factories.PASSWORD, "nouvelle@test.dmp")


async def test_a_code_of_an_earlier_change_does_not_confirm_the_later_one(
    client: httpx.AsyncClient, smtp_server: SmtpServer
) -> None:
    """Two changes of address from two sessions: the first one's code, confirmed in its own
    session, would have verified the second address, which nobody proved."""
    account, first = await _signed_in(client, smtp_server)
    email = account.email or ""
    second_cookie = await login(client, smtp_server, email, factories.PASSWORD, email)
    second = Caller(client, session=second_cookie)
    smtp_server.clear()
    (await first.gql(CHANGE_EMAIL, {"e": "mienne@test.dmp"})).ok()
    mine = await smtp_server.code_for("mienne@test.dmp")
    (await second.gql(CHANGE_EMAIL, {"e": "faute@test.dmp"})).ok()
    refused = await first.gql(CONFIRM_EMAIL, {"c": mine})
    assert refused.codes and refused.codes[0] in ("BAD_USER_INPUT", "RATE_LIMITED")
    after = await Account.get(id=account.id)
    assert after.email == account.email and after.pending_email == "faute@test.dmp"
    # The later change is confirmed with the code sent to its own address.
    theirs = await smtp_server.code_for("faute@test.dmp")
    assert (await second.gql(CONFIRM_EMAIL, {"c": theirs})).ok() == {"confirmEmailChange": True}
    assert (await Account.get(id=account.id)).email == "faute@test.dmp"


async def test_contact_change_codes_are_limited_per_account(
    client: httpx.AsyncClient, smtp_server: SmtpServer
) -> None:
    """Each changeEmail or changePhone sends a code to a destination the caller chose, and
    changeEmail tells whether another account uses an address: five per account and ten
    minutes, both together, from every session of the account, addresses in use included."""
    account, caller = await _signed_in(client, smtp_server)
    taken, _ = await factories.patient()
    elsewhere = Caller(client, session=await session_for(account))
    in_use = await caller.gql(CHANGE_EMAIL, {"e": taken.email})
    assert in_use.errors[0]["extensions"]["reason"] == "EMAIL_UNAVAILABLE"
    answers = [(await caller.gql(CHANGE_EMAIL, {"e": f"essai{n}@test.dmp"})).codes for n in range(3)]
    answers.append((await caller.gql(CHANGE_PHONE, {"p": "+33 6 11 22 33 44"})).codes)
    assert answers == [[]] * 4
    refused = [
        await caller.gql(CHANGE_EMAIL, {"e": taken.email}),  # no longer tells
        await caller.gql(CHANGE_EMAIL, {"e": "essai9@test.dmp"}),
        await caller.gql(CHANGE_PHONE, {"p": "+33 6 11 22 33 45"}),
        await elsewhere.gql(CHANGE_EMAIL, {"e": "ailleurs@test.dmp"}),
    ]
    assert [r.codes for r in refused] == [["RATE_LIMITED"]] * 4
    assert all(r.data is None for r in refused)
    after = await Account.get(id=account.id)
    assert (after.pending_email, after.pending_phone) == ("essai2@test.dmp", "+33 6 11 22 33 44")
    assert await OneTimeCode.filter(account_id=account.id, purpose=CodePurpose.VERIFY_CONTACT).count() == 4
    await smtp_server.deliver()
    assert smtp_server.to("essai9@test.dmp") == [] and smtp_server.to("ailleurs@test.dmp") == []
    # Another account is not held back; ten minutes later, this one may go on.
    _, other_caller = await _signed_in(client, smtp_server)
    (await other_caller.gql(CHANGE_EMAIL, {"e": "autre@test.dmp"})).ok()
    clock.shift(timedelta(minutes=11))
    (await caller.gql(FRESH)).ok()
    fresh = await smtp_server.code_for(account.email or "")
    (await caller.gql(CONFIRM_FRESH, {"c": fresh})).ok()
    (await caller.gql(CHANGE_EMAIL, {"e": "essai9@test.dmp"})).ok()


async def test_fresh_factor_codes_are_limited(client: httpx.AsyncClient, smtp_server: SmtpServer) -> None:
    account, caller = await _signed_in(client, smtp_server)
    answers = [(await caller.gql(FRESH)).codes for _ in range(7)]
    assert answers == [[]] * 5 + [["RATE_LIMITED"]] * 2
    assert await OneTimeCode.filter(account_id=account.id, purpose=CodePurpose.FRESH_FACTOR).count() == 5
    clock.shift(timedelta(minutes=10))
    assert (await caller.gql(FRESH)).codes == []


async def test_change_phone_then_codes_by_sms(client: httpx.AsyncClient, smtp_server: SmtpServer) -> None:
    account, caller = await _signed_in(client, smtp_server)
    refused = await caller.gql(CHANNEL, {"c": "SMS"})
    assert refused.codes == ["BAD_USER_INPUT"]
    for not_a_number in ("------", "+ . . . . . .", "12-34"):  # separators, or too few digits
        wrong = await caller.gql(CHANGE_PHONE, {"p": not_a_number})
        assert wrong.errors[0]["extensions"]["reason"] == "INVALID_PHONE", not_a_number
    assert (await Account.get(id=account.id)).pending_phone is None
    phone = "+33 6 98 76 54 21"
    sent = (await caller.gql(CHANGE_PHONE, {"p": phone})).ok()["changePhone"]["sentTo"]
    assert sent == "•• •• •• •• 21"
    await smtp_server.deliver()
    code = sms_code_for(phone)
    assert (await caller.gql(CONFIRM_PHONE, {"c": code})).ok() == {"confirmPhoneChange": True}
    assert (await Account.get(id=account.id)).phone == phone
    assert (await caller.gql("{ me { codeChannel } }")).ok() == {"me": {"codeChannel": "EMAIL"}}
    assert (await caller.gql(CHANNEL, {"c": "SMS"})).ok() == {"setCodeChannel": "SMS"}
    # The account tells which channel it uses (the page's form starts from it).
    assert (await caller.gql("{ me { codeChannel } }")).ok() == {"me": {"codeChannel": "SMS"}}
    await smtp_server.deliver()
    subjects = [m.subject for m in smtp_server.to(account.email or "")]
    assert any("téléphone" in s for s in subjects) and any("codes" in s for s in subjects)
    started = await start(client, account.email or "", factories.PASSWORD)
    assert started["codeSentTo"] == "•• •• •• •• 21"
    await smtp_server.deliver()
    login_code = sms_code_for(phone)
    from tests.auth_flows import COMPLETE

    result = await Caller(client).gql(COMPLETE, {"t": started["attemptToken"], "c": login_code})
    assert result.ok() and session_cookie(result)


@pytest.mark.usefixtures("texts_not_sent")
async def test_where_no_text_is_sent_sms_cannot_be_chosen_and_nothing_changes(
    client: httpx.AsyncClient, smtp_server: SmtpServer
) -> None:
    """In production without an SMS plug-in: a phone to confirm, or codes by SMS, would wait
    for a text that never comes. Refused with SMS_UNAVAILABLE; nothing is written or sent."""
    from backend.models import OutboxMessage

    account, caller = await _signed_in(client, smtp_server)
    await Account.filter(id=account.id).update(phone="+33 6 98 76 54 23", phone_verified=True)
    for document, variables in ((CHANGE_PHONE, {"p": "+33 6 98 76 54 22"}), (CHANNEL, {"c": "SMS"})):
        refused = await caller.gql(document, variables)
        assert refused.codes == ["BAD_USER_INPUT"]
        assert refused.errors[0]["extensions"]["reason"] == "SMS_UNAVAILABLE"
    after = await Account.get(id=account.id)
    assert (after.pending_phone, after.code_channel) == (None, "EMAIL")
    assert await OutboxMessage.filter(channel="SMS").count() == 0
    assert await AccessEvent.filter(action="SECURITY_CHANGED").count() == 0

    import datetime as dt

    from backend.auth import activation
    from backend.domain.enums import RecordStatus
    from backend.models import Record

    pending = await Record.create(ins=factories.new_ins(), first_name="Sam", last_name="Sansms",
                                  birth_date=dt.date(1990, 1, 1), status=RecordStatus.PENDING)
    ins = pending.ins
    code, _ = await activation.issue(pending, "test")
    created = await Caller(client).gql(
        "mutation($input: CreateRecordInput!) { createRecord(input: $input) { sentTo } }",
        {"input": {"ins": ins, "activationCode": code, "email": "sms.less@test.dmp",
                   "phone": "+33 6 98 76 54 24", "password": NEW_PASSWORD, "codeChannel": "SMS"}},
    )
    assert created.codes == ["BAD_USER_INPUT"]
    assert created.errors[0]["extensions"]["reason"] == "SMS_UNAVAILABLE"
    assert not await Account.filter(email="sms.less@test.dmp").exists()


async def test_fresh_factor_needs_a_session(client: httpx.AsyncClient) -> None:
    assert (await Caller(client).gql(FRESH)).codes == ["UNAUTHENTICATED"]
    assert await Session.all().count() == 0


async def test_confirming_without_a_code_asks_for_one(
    client: httpx.AsyncClient, smtp_server: SmtpServer
) -> None:
    account, caller = await _stale(client, smtp_server)
    result = await caller.gql(CONFIRM_FRESH, {"c": "123456"})
    assert result.codes == ["BAD_USER_INPUT"] and "ask for a new one" in result.errors[0]["message"]
    assert (await caller.gql(CHANNEL, {"c": "EMAIL"})).codes == ["FORBIDDEN"]
    assert (await Account.get(id=account.id)).failure_count == 0


async def test_fresh_factor_code_tries_are_capped(client: httpx.AsyncClient, smtp_server: SmtpServer) -> None:
    account, caller = await _stale(client, smtp_server)
    (await caller.gql(FRESH)).ok()
    code = await smtp_server.code_for(account.email or "")
    for _ in range(5):
        assert (await caller.gql(CONFIRM_FRESH, {"c": wrong(code)})).codes == ["BAD_USER_INPUT"]
    assert (await caller.gql(CONFIRM_FRESH, {"c": code})).codes == ["RATE_LIMITED"]
    assert (await caller.gql(CHANNEL, {"c": "EMAIL"})).codes == ["FORBIDDEN"]
    session = await Session.get(account_id=account.id)
    assert session.fresh_factor_at == session.created_at  # unchanged since the login


async def test_a_new_code_replaces_the_sessions_earlier_one_only(
    client: httpx.AsyncClient, smtp_server: SmtpServer
) -> None:
    account, caller = await _stale(client, smtp_server)
    # The same account signed in elsewhere, also asking for a code: another binding.
    elsewhere = Caller(client, session=await session_for(account))
    (await caller.gql(FRESH)).ok()
    first = await smtp_server.code_for(account.email or "")
    (await elsewhere.gql(FRESH)).ok()
    other = await smtp_server.code_for(account.email or "")
    (await caller.gql(FRESH)).ok()
    second = await smtp_server.code_for(account.email or "")
    rows = await OneTimeCode.filter(
        account_id=account.id, purpose=CodePurpose.FRESH_FACTOR
    ).order_by("created_at")
    # This session's first code is retired; the other session's and this one's second are live.
    assert [row.used_at is None for row in rows] == [False, True, True]
    assert rows[0].session_id != rows[1].session_id  # type: ignore[attr-defined]
    assert rows[0].session_id == rows[2].session_id  # type: ignore[attr-defined]
    assert first and (await caller.gql(CONFIRM_FRESH, {"c": second})).ok() == {"confirmFreshFactor": True}
    assert (await elsewhere.gql(CONFIRM_FRESH, {"c": other})).ok() == {"confirmFreshFactor": True}
