"""Code tries are counted in the database before comparing: 5 per code, 10 failures per day.

Parallel requests, aliases in one request and several server processes cannot multiply them.
"""

from __future__ import annotations

import asyncio
import uuid
from datetime import timedelta
from typing import Any

import httpx
import pytest

from backend import clock
from backend.auth import limits
from backend.auth.limits import DAILY_CODE_FAILURES
from backend.models import Account, LoginAttempt, OneTimeCode, Session
from tests import factories
from tests.auth_flows import COMPLETE, START, start, wrong
from tests.conftest import Caller
from tests.smtp import SmtpServer


async def _started(client: httpx.AsyncClient, smtp: SmtpServer) -> tuple[Account, str, str]:
    account, _ = await factories.patient()
    started = await start(client, account.email or "", factories.PASSWORD)
    code = await smtp.code_for(account.email or "")
    return account, str(started["attemptToken"]), code


async def _nothing_signed_in(account: Account) -> None:
    assert await Session.filter(account_id=account.id).count() == 0
    assert await LoginAttempt.filter(account_id=account.id).exclude(completed_at=None).count() == 0


async def test_right_code_after_five_wrong_ones_is_refused(
    client: httpx.AsyncClient, smtp_server: SmtpServer
) -> None:
    account, token, code = await _started(client, smtp_server)
    for _ in range(5):
        result = await Caller(client).gql(COMPLETE, {"t": token, "c": wrong(code)})
        assert result.codes == ["BAD_USER_INPUT"]
    result = await Caller(client).gql(COMPLETE, {"t": token, "c": code})
    assert result.codes == ["RATE_LIMITED"] and result.data is None
    assert (await OneTimeCode.get(account_id=account.id)).tries == 5
    await _nothing_signed_in(account)


async def test_twenty_parallel_tries_count_as_five(
    client: httpx.AsyncClient, smtp_server: SmtpServer
) -> None:
    account, token, code = await _started(client, smtp_server)
    results = await asyncio.gather(*(
        Caller(client).gql(COMPLETE, {"t": token, "c": wrong(code)}) for _ in range(20)
    ))
    codes = sorted(r.codes[0] or "" for r in results)
    assert codes.count("BAD_USER_INPUT") == 5
    assert codes.count("RATE_LIMITED") == 15
    result = await Caller(client).gql(COMPLETE, {"t": token, "c": code})
    assert result.codes == ["RATE_LIMITED"]
    assert (await OneTimeCode.get(account_id=account.id)).tries == 5
    assert (await Account.get(id=account.id)).failure_count == 5
    await _nothing_signed_in(account)


async def test_parallel_right_code_signs_in_at_most_once(
    client: httpx.AsyncClient, smtp_server: SmtpServer
) -> None:
    account, token, code = await _started(client, smtp_server)
    results = await asyncio.gather(*(
        Caller(client).gql(COMPLETE, {"t": token, "c": code if i % 4 == 0 else wrong(code)})
        for i in range(20)
    ))
    signed_in = [r for r in results if not r.errors]
    refusals = [
        [e["extensions"].get("reason") or e["extensions"]["code"] for e in r.errors] for r in results
    ]
    # A request that finds the attempt already completed by the right answer compares no
    # code (ATTEMPT_EXPIRED); only the compared codes count against the five tries.
    allowed = ([], ["WRONG_CODE"], ["ATTEMPT_EXPIRED"], ["CODE_TRIES_USED_UP"])
    assert all(r in allowed for r in refusals), refusals
    wrong_answers = [r for r in refusals if r == ["WRONG_CODE"]]
    assert len(signed_in) <= 1
    assert len(signed_in) + len(wrong_answers) <= 5
    assert await Session.filter(account_id=account.id).count() == len(signed_in)
    assert (await OneTimeCode.get(account_id=account.id)).tries <= 5


async def test_twenty_aliases_in_one_request_never_pass_the_cap(
    client: httpx.AsyncClient, smtp_server: SmtpServer
) -> None:
    account, token, code = await _started(client, smtp_server)
    fields = " ".join(
        f'a{i}: completeLogin(attemptToken: $t, code: "{wrong(code)}") {{ me {{ id }} }}'
        for i in range(20)
    )
    result = await Caller(client).gql(
        f'mutation($t: String!) {{ {fields} last: completeLogin(attemptToken: $t, code: "{code}") '
        "{ me { id } } }", {"t": token}
    )
    tries = (await OneTimeCode.get(account_id=account.id)).tries
    if result.data is None:
        # Refused as a whole (an alias limit): nothing was tried.
        assert result.errors and tries == 0
    else:
        assert result.codes.count("BAD_USER_INPUT") == 5
        assert result.codes.count("RATE_LIMITED") == 16
        assert tries == 5
    await _nothing_signed_in(account)


async def test_daily_cap_locks_code_login_and_emails_the_patient(
    client: httpx.AsyncClient, smtp_server: SmtpServer
) -> None:
    account, _ = await factories.patient()
    email = account.email or ""
    tokens = []
    for _ in range(3):
        started = await start(client, email, factories.PASSWORD)
        tokens.append((str(started["attemptToken"]), await smtp_server.code_for(email)))
    # Three codes, five tries each, all at once: only ten failures may be counted today.
    results = await asyncio.gather(*(
        Caller(client).gql(COMPLETE, {"t": t, "c": wrong(c)}) for t, c in tokens for _ in range(5)
    ))
    # The try that locks answers the lock at once (it used to answer WRONG_CODE, and only the
    # next try told the lock): nine « wrong code », then the lock for the six others.
    answers = [(r.codes[0], r.errors[0]["extensions"].get("reason")) for r in results]
    assert answers.count(("BAD_USER_INPUT", "WRONG_CODE")) == DAILY_CODE_FAILURES - 1, answers
    assert answers.count(("RATE_LIMITED", "CODE_LOGIN_LOCKED")) == 15 - (DAILY_CODE_FAILURES - 1), answers
    locked = await Account.get(id=account.id)
    assert locked.failure_count == DAILY_CODE_FAILURES
    assert locked.locked_at is not None and locked.lock_reason
    await smtp_server.deliver()
    notices = [m for m in smtp_server.to(email) if "bloquée" in m.subject]
    assert len(notices) == 1
    # Locked: the same answer at startLogin, but no code goes out and none is accepted.
    smtp_server.clear()
    before = await OneTimeCode.filter(account_id=account.id).count()
    started = await start(client, email, factories.PASSWORD)
    assert started["factors"] == ["CODE"] and started["codeSentTo"]
    assert await OneTimeCode.filter(account_id=account.id).count() == before
    await smtp_server.deliver()
    assert smtp_server.to(email) == []
    result = await Caller(client).gql(COMPLETE, {"t": started["attemptToken"], "c": "123456"})
    assert result.codes == ["BAD_USER_INPUT"]
    await _nothing_signed_in(account)


async def test_failures_are_counted_per_utc_day(
    client: httpx.AsyncClient, smtp_server: SmtpServer
) -> None:
    account, token, code = await _started(client, smtp_server)
    for _ in range(4):
        result = await Caller(client).gql(COMPLETE, {"t": token, "c": wrong(code)})
        assert result.codes == ["BAD_USER_INPUT"]
    assert (await Account.get(id=account.id)).failure_count == 4
    clock.shift(timedelta(days=1))
    account2_token = await start(client, account.email or "", factories.PASSWORD)
    code2 = await smtp_server.code_for(account.email or "")
    bad = await Caller(client).gql(COMPLETE, {"t": account2_token["attemptToken"], "c": wrong(code2)})
    assert bad.codes == ["BAD_USER_INPUT"]
    fresh = await Account.get(id=account.id)
    assert fresh.failure_count == 1 and fresh.failure_day == clock.now().date()


async def test_expired_code_refused(client: httpx.AsyncClient, smtp_server: SmtpServer) -> None:
    account, token, code = await _started(client, smtp_server)
    clock.shift(timedelta(minutes=11))
    result = await Caller(client).gql(COMPLETE, {"t": token, "c": code})
    assert result.codes == ["BAD_USER_INPUT"]
    await _nothing_signed_in(account)


async def test_unknown_identifier_attempt_behaves_like_a_real_one(client: httpx.AsyncClient) -> None:
    started = (await Caller(client).gql(START, {"i": "nobody@test.dmp", "p": factories.PASSWORD})).ok()
    token = started["startLogin"]["attemptToken"]
    codes = [(await Caller(client).gql(COMPLETE, {"t": token, "c": "123456"})).codes[0] for _ in range(6)]
    assert codes == ["BAD_USER_INPUT"] * 5 + ["RATE_LIMITED"]


async def test_a_try_that_ends_after_midnight_locks_on_the_day_it_was_counted(
    client: httpx.AsyncClient, smtp_server: SmtpServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The day's last failure, counted before midnight and compared after it, still locks code
    login: the lock names the day the failure was counted on, not the clock's new day."""
    account, token, code = await _started(client, smtp_server)
    await Account.filter(id=account.id).update(
        failure_day=clock.now().date(), failure_count=DAILY_CODE_FAILURES - 1
    )
    reserve = limits.reserve_failure

    async def reserve_then_midnight(account_id: uuid.UUID) -> Any:
        counted = await reserve(account_id)
        clock.shift(timedelta(days=1))  # the comparison ends on the next day
        return counted

    monkeypatch.setattr(limits, "reserve_failure", reserve_then_midnight)
    result = await Caller(client).gql(COMPLETE, {"t": token, "c": wrong(code)})
    # The try that locks says so at once (it used to answer WRONG_CODE).
    assert result.codes == ["RATE_LIMITED"]
    assert result.errors[0]["extensions"]["reason"] == "CODE_LOGIN_LOCKED"
    locked = await Account.get(id=account.id)
    assert locked.failure_count == DAILY_CODE_FAILURES and locked.locked_at is not None
