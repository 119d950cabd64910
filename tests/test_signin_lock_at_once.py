"""The day's tenth wrong code, which locks code login, answers the lock at once (RATE_LIMITED,
CODE_LOGIN_LOCKED), wherever a code actually sent is tried: it answered « wrong code », and
whoever typed it typed again in vain. A decoy attempt counts no failure, so it never locks
and never answers this: its reasons stay those of an identifier that names no account."""

from __future__ import annotations

import httpx

from backend import clock
from backend.auth.limits import DAILY_CODE_FAILURES
from backend.models import Account, Session
from tests import factories
from tests.auth_flows import COMPLETE, CONFIRM_FRESH, FRESH, start, wrong
from tests.conftest import Caller, session_for
from tests.smtp import SmtpServer


async def _lock_notices(smtp: SmtpServer, email: str) -> int:
    await smtp.deliver()
    return len([m for m in smtp.to(email) if "bloquée" in m.subject])


async def test_the_tenth_wrong_code_in_a_session_answers_the_lock(
    client: httpx.AsyncClient, smtp_server: SmtpServer
) -> None:
    """confirmFreshFactor (a code sent to a signed-in session) refuses through the same path."""
    account, _ = await factories.patient()
    email = account.email or ""
    caller = Caller(client, session=await session_for(account))
    (await caller.gql(FRESH)).ok()
    code = await smtp_server.code_for(email)
    await Account.filter(id=account.id).update(
        failure_day=clock.now().date(), failure_count=DAILY_CODE_FAILURES - 1
    )
    session = await Session.get(account_id=account.id)
    refused = await caller.gql(CONFIRM_FRESH, {"c": wrong(code)})
    assert refused.data is None
    assert refused.errors[0]["extensions"] == {"code": "RATE_LIMITED", "reason": "CODE_LOGIN_LOCKED"}
    locked = await Account.get(id=account.id)
    assert locked.locked_at is not None and locked.failure_count == DAILY_CODE_FAILURES
    assert await _lock_notices(smtp_server, email) == 1
    # Nothing else written: the session's second factor is as old as it was.
    assert (await Session.get(id=session.id)).fresh_factor_at == session.fresh_factor_at


async def test_a_decoy_never_locks_nor_answers_the_lock(
    client: httpx.AsyncClient, smtp_server: SmtpServer
) -> None:
    """A wrong password's attempt on an account one failure from the cap, tried ten times over
    two attempts: its answers are an unknown identifier's, and nothing is counted."""
    account, _ = await factories.patient()
    email = account.email or ""
    day = clock.now().date()
    await Account.filter(id=account.id).update(failure_day=day, failure_count=DAILY_CODE_FAILURES - 1)
    answers = []
    for identifier in (email, "personne@test.dmp"):
        reasons = []
        for _ in range(2):
            started = await start(client, identifier, "pas-le-bon-mot-de-passe")
            for _ in range(5):
                result = await Caller(client).gql(COMPLETE, {"t": started["attemptToken"], "c": "123456"})
                reasons.append((result.codes[0], result.errors[0]["extensions"].get("reason")))
        answers.append(reasons)
    assert answers[0] == answers[1] == [("BAD_USER_INPUT", "WRONG_CODE")] * 10
    after = await Account.get(id=account.id)
    assert after.locked_at is None
    assert (after.failure_day, after.failure_count) == (day, DAILY_CODE_FAILURES - 1)
    assert await _lock_notices(smtp_server, email) == 0
