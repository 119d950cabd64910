"""Review: a code sent after the right password, its tries used up once the account is locked,
says the lock (CODE_LOGIN_LOCKED), not « start again to receive a new one » (CODE_TRIES_USED_UP):
started again, a locked account's sign-in sends no code, and the holder waited for one that
never came. The usual way in: two codes tried five times each, the tenth wrong code locking
code login (answered with the lock at once, CODE_LOGIN_LOCKED), then one more try on the
second code."""

from __future__ import annotations

from typing import Any

import httpx

from backend.models import Account, Session
from tests import factories
from tests.auth_flows import COMPLETE, start, wrong
from tests.conftest import Caller
from tests.smtp import SmtpServer


async def _reasons(client: httpx.AsyncClient, token: str, code: str, n: int) -> list[Any]:
    answers = [await Caller(client).gql(COMPLETE, {"t": token, "c": code}) for _ in range(n)]
    return [answer.errors[0]["extensions"].get("reason") for answer in answers]


async def test_a_used_up_code_of_a_locked_account_says_the_lock(
    client: httpx.AsyncClient, smtp_server: SmtpServer
) -> None:
    account, _ = await factories.patient()
    email = account.email or ""
    logins = []
    for _ in range(2):
        started = await start(client, email, factories.PASSWORD)
        logins.append((str(started["attemptToken"]), await smtp_server.code_for(email)))
    (first, first_code), (second, second_code) = logins
    assert await _reasons(client, first, wrong(first_code), 5) == ["WRONG_CODE"] * 5
    # The tenth wrong code, which locks, answers the lock at once (it used to answer
    # WRONG_CODE, and only the next try told the lock).
    assert await _reasons(client, second, wrong(second_code), 5) == ["WRONG_CODE"] * 4 + ["CODE_LOGIN_LOCKED"]
    locked = await Account.get(id=account.id)
    assert locked.locked_at is not None
    token, code = logins[1]
    again = (await Caller(client).gql(COMPLETE, {"t": token, "c": code})).errors[0]
    assert again["extensions"] == {"code": "RATE_LIMITED", "reason": "CODE_LOGIN_LOCKED"}
    # Nothing more written: the lock and the day's count stay as they were, no session.
    after = await Account.get(id=account.id)
    assert (after.locked_at, after.failure_count) == (locked.locked_at, locked.failure_count)
    assert not await Session.filter(account_id=account.id).exists()


async def test_a_used_up_code_of_an_unlocked_account_still_says_start_again(
    client: httpx.AsyncClient, smtp_server: SmtpServer
) -> None:
    account, _ = await factories.patient()
    email = account.email or ""
    started = await start(client, email, factories.PASSWORD)
    code = await smtp_server.code_for(email)
    reasons = await _reasons(client, str(started["attemptToken"]), wrong(code), 6)
    assert reasons == ["WRONG_CODE"] * 5 + ["CODE_TRIES_USED_UP"]
