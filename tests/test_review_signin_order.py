"""Review of sign-in steps taken out of order: a token or code of one step, purpose or
account used for another is refused with its reason, and nothing is written."""

from __future__ import annotations

import httpx

from backend.models import Account, Session
from tests import factories
from tests.auth_flows import COMPLETE, CONFIRM_FRESH, DO_RESET, FRESH, NEW_PASSWORD, RESET, login, start
from tests.conftest import Caller
from tests.smtp import SmtpServer

CONFIRM_EMAIL = "mutation($c: String!) { confirmEmailChange(code: $c) }"
CHANGE_EMAIL = "mutation($e: String!) { changeEmail(newEmail: $e) { sentTo } }"


def _reason(result: object) -> str:
    errors = result.errors  # type: ignore[attr-defined]
    return str(errors[0]["extensions"].get("reason") or errors[0]["extensions"]["code"])


async def test_tokens_and_codes_of_one_purpose_or_account_open_nothing_else(
    client: httpx.AsyncClient, smtp_server: SmtpServer
) -> None:
    account, _ = await factories.patient()
    other, _ = await factories.patient()
    email, other_email = account.email or "", other.email or ""
    hash_before = account.password_hash
    started = await start(client, email, factories.PASSWORD)
    login_code = await smtp_server.code_for(email)
    reset = (await Caller(client).gql(RESET, {"i": email})).ok()["requestPasswordReset"]["attemptToken"]
    reset_code = await smtp_server.code_for(email)
    other_started = await start(client, other_email, factories.PASSWORD)
    # A login's token resets nothing; a reset's token signs nobody in.
    crossed = await Caller(client).gql(DO_RESET, {"t": started["attemptToken"], "c": login_code,
                                                  "p": NEW_PASSWORD})
    assert crossed.data is None and _reason(crossed) == "ATTEMPT_EXPIRED"
    crossed = await Caller(client).gql(COMPLETE, {"t": reset, "c": reset_code})
    assert crossed.data is None and _reason(crossed) == "ATTEMPT_EXPIRED"
    # One account's code on another account's attempt is a wrong code.
    theirs = await Caller(client).gql(COMPLETE, {"t": other_started["attemptToken"], "c": login_code})
    assert theirs.data is None and _reason(theirs) == "WRONG_CODE"
    assert not await Session.filter(account_id__in=[account.id, other.id]).exists()
    assert (await Account.get(id=account.id)).password_hash == hash_before
    # The right pairs still work, once each.
    done = await Caller(client).gql(COMPLETE, {"t": started["attemptToken"], "c": login_code})
    assert done.ok()["completeLogin"]["me"]["id"] == str(account.id)
    again = await Caller(client).gql(COMPLETE, {"t": started["attemptToken"], "c": login_code})
    assert again.data is None and _reason(again) == "ATTEMPT_EXPIRED"
    assert await Session.filter(account_id=account.id).count() == 1


async def test_a_fresh_factor_code_confirms_no_contact_and_a_contact_code_no_factor(
    client: httpx.AsyncClient, smtp_server: SmtpServer
) -> None:
    account, _ = await factories.patient()
    email = account.email or ""
    caller = Caller(client, session=await login(client, smtp_server, email, factories.PASSWORD, email))
    smtp_server.clear()
    (await caller.gql(CHANGE_EMAIL, {"e": "croisee@test.dmp"})).ok()
    contact_code = await smtp_server.code_for("croisee@test.dmp")
    (await caller.gql(FRESH)).ok()
    fresh_code = await smtp_server.code_for(email)
    crossed = await caller.gql(CONFIRM_EMAIL, {"c": fresh_code})
    assert crossed.data is None and _reason(crossed) == "WRONG_CODE"
    crossed = await caller.gql(CONFIRM_FRESH, {"c": contact_code})
    assert crossed.data is None and _reason(crossed) == "WRONG_CODE"
    assert (await Account.get(id=account.id)).email == email
    assert (await caller.gql(CONFIRM_EMAIL, {"c": contact_code})).ok() == {"confirmEmailChange": True}
