"""A sign-in code refused past its limits says why (`extensions.reason`) where « try again
later » would not help, and keeps the code RATE_LIMITED. A reason never tells an account from
an identifier that names none, nor a right password from a wrong one: the tries of a decoy
attempt answer word for word as a real attempt's, and the lock is said only after the right
password, on an attempt whose code was sent."""

from __future__ import annotations

from typing import Any

import httpx

from backend import clock
from backend.auth.limits import DAILY_CODE_FAILURES
from backend.models import Account, LoginAttempt, Session
from tests import factories
from tests.auth_flows import COMPLETE, start, wrong
from tests.conftest import Caller, GraphQLResult
from tests.smtp import SmtpServer


def _error(result: GraphQLResult) -> dict[str, Any]:
    """The one error of a refused step, whole: message, path and extensions."""
    assert result.data is None or result.data.get("completeLogin") is None
    assert len(result.errors) == 1, result.errors
    return result.errors[0]


async def _tries(client: httpx.AsyncClient, token: str, code: str, n: int) -> list[dict[str, Any]]:
    return [_error(await Caller(client).gql(COMPLETE, {"t": token, "c": code})) for _ in range(n)]


async def _nothing_signed_in(account: Account) -> None:
    assert await Session.filter(account_id=account.id).count() == 0
    assert await LoginAttempt.filter(account_id=account.id).exclude(completed_at=None).count() == 0


async def test_a_code_tried_five_times_says_a_new_one_is_needed_as_a_decoy_does(
    client: httpx.AsyncClient, smtp_server: SmtpServer
) -> None:
    account, _ = await factories.patient()
    email = account.email or ""
    answers = {}
    started = await start(client, email, factories.PASSWORD)
    code = await smtp_server.code_for(email)
    answers["right password"] = await _tries(client, str(started["attemptToken"]), wrong(code), 6)
    for case, identifier, password in (
        ("wrong password", email, "not the password at all"),
        ("unknown identifier", "ghost@test.dmp", factories.PASSWORD),
    ):
        started = await start(client, identifier, password)
        answers[case] = await _tries(client, str(started["attemptToken"]), wrong(code), 6)
    first = answers["right password"]
    assert [e["extensions"].get("reason") for e in first] == ["WRONG_CODE"] * 5 + ["CODE_TRIES_USED_UP"]
    assert first[5]["extensions"] == {"code": "RATE_LIMITED", "reason": "CODE_TRIES_USED_UP"}
    # Word for word alike, whether the account exists and the password was right or not.
    assert answers["wrong password"] == answers["unknown identifier"] == first
    # The right code, once the tries are used up, opens nothing.
    refused = await Caller(client).gql(COMPLETE, {"t": started["attemptToken"], "c": code})
    assert _error(refused)["extensions"]["reason"] == "CODE_TRIES_USED_UP"
    await _nothing_signed_in(account)


async def test_a_lock_met_after_the_right_password_says_support_or_a_passkey_is_needed(
    client: httpx.AsyncClient, smtp_server: SmtpServer
) -> None:
    account, _ = await factories.patient()
    email = account.email or ""
    attempts = []
    for _ in range(3):  # three logins past the right password, their codes sent
        started = await start(client, email, factories.PASSWORD)
        attempts.append((str(started["attemptToken"]), await smtp_server.code_for(email)))
    # Ten wrong codes on the first two: the tenth locks code login, and answers the lock at
    # once (it used to answer WRONG_CODE, and only the next try told the lock).
    (first, first_code), (second, second_code) = attempts[:2]
    tried = await _tries(client, first, wrong(first_code), 5)
    tried += await _tries(client, second, wrong(second_code), 5)
    assert [e["extensions"].get("reason") for e in tried] == ["WRONG_CODE"] * 9 + ["CODE_LOGIN_LOCKED"]
    assert tried[-1]["extensions"] == {"code": "RATE_LIMITED", "reason": "CODE_LOGIN_LOCKED"}
    assert (await Account.get(id=account.id)).locked_at is not None
    # The holder is told of the lock once, as before.
    await smtp_server.deliver()
    assert len([m for m in smtp_server.to(email) if "bloquée" in m.subject]) == 1
    # The third, opened before the lock, meets it, even with its right code.
    token, code = attempts[2]
    refused = _error(await Caller(client).gql(COMPLETE, {"t": token, "c": code}))
    assert refused["extensions"] == {"code": "RATE_LIMITED", "reason": "CODE_LOGIN_LOCKED"}
    await _nothing_signed_in(account)
    assert (await Account.get(id=account.id)).failure_count == DAILY_CODE_FAILURES


async def test_a_locked_account_signed_in_to_again_answers_as_an_unknown_identifier(
    client: httpx.AsyncClient, smtp_server: SmtpServer
) -> None:
    """Once locked, the right password gets a decoy (no code is sent): saying the lock there
    would tell whoever tries passwords that one was right. Its tries answer as an unknown
    identifier's, reasons included; the lock was e-mailed to the holder when it was set."""
    account, _ = await factories.patient()
    email = account.email or ""
    await Account.filter(id=account.id).update(locked_at=clock.now(), lock_reason="test")
    answers = []
    for identifier in (email, "ghost@test.dmp"):
        started = await start(client, identifier, factories.PASSWORD)
        answers.append(await _tries(client, str(started["attemptToken"]), "123456", 6))
    assert answers[0] == answers[1]
    assert [e["extensions"].get("reason") for e in answers[0]] == ["WRONG_CODE"] * 5 + ["CODE_TRIES_USED_UP"]
    await _nothing_signed_in(account)
