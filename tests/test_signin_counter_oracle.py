"""Sign-in's two counters tell no account from none (probe: the account's counter as an oracle).

`startLogin` and `requestPasswordReset` count 20 tries an hour per account, whichever of its
identifiers is typed. An identifier that names no account was counted on its own, so once an
account's tries were used up through its e-mail address, its INS (or RPPS number, which is
public) answered RATE_LIMITED where an unknown one answered as usual: one request told that
the INS has an account, and which address goes with it. Now every try also counts on the
identifier typed (as sign-in reads it), and only that counter answers RATE_LIMITED; past the
account's 20, the identifier is answered as one that names no account: no code, no failure
written, the decoy's mask, the same argon2 work and the same floor, whatever the password.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from argon2 import PasswordHasher

from backend import clock
from backend.auth import passwords
from backend.auth.contacts import decoy_destination
from backend.models import Account, LoginAttempt, OneTimeCode, OutboxMessage, Session
from backend.resolvers import login
from backend.resolvers.login import STARTS_PER_HOUR, read_identifier
from tests import factories
from tests.auth_flows import COMPLETE, DO_RESET, NEW_PASSWORD, RESET, START, wrong
from tests.conftest import Caller, session_for
from tests.passkey_flows import begin_login, finish_login, register
from tests.smtp import SmtpServer
from tests.soft_authenticator import SoftAuthenticator
from tests.test_auth_costly_steps import CountingHasher
from tests.test_authz_reading import count_queries


@pytest.fixture(autouse=True)
def _start_of_an_hour() -> None:
    """Every try of a test in one window of the hourly counters."""
    now = clock.now()
    clock.shift(now.replace(minute=0, second=0, microsecond=0) + dt.timedelta(hours=1) - now)


@pytest.fixture
def argon2(monkeypatch: pytest.MonkeyPatch) -> Iterator[CountingHasher]:
    counting = CountingHasher(passwords.HASHER)
    monkeypatch.setattr(passwords, "HASHER", counting)
    yield counting


def _answer(result: Any) -> Any:
    """What a caller sees of an answer, but the attempt token (random each time)."""
    body = result.response.json()
    for payload in (body.get("data") or {}).values():
        if isinstance(payload, dict):
            payload.pop("attemptToken", None)
    return body


async def _use_up(client: httpx.AsyncClient, email: str, *, resets: int = 0) -> None:
    """The account's 20 tries of the hour, all through its e-mail address: wrong passwords,
    and `resets` of them password-reset requests; each answered as usual."""
    for n in range(STARTS_PER_HOUR):
        if n < resets:
            assert (await Caller(client).gql(RESET, {"i": email})).ok()
        else:
            assert (await Caller(client).gql(START, {"i": email, "p": f"Wrong-pass-{n}"})).ok()


async def _written() -> tuple[int, int, int]:
    return (await OneTimeCode.all().count(), await OutboxMessage.all().count(),
            await Session.all().count())


@pytest.mark.parametrize("kind", ["INS", "RPPS"])
async def test_another_identifier_of_an_account_used_up_answers_as_an_unknown_one(
    client: httpx.AsyncClient, argon2: CountingHasher, kind: str
) -> None:
    if kind == "INS":
        account, record = await factories.patient()
        number, unknown = record.ins, factories.new_ins()
    else:
        account, practitioner = await factories.practitioner()
        number, unknown = practitioner.rpps, factories.new_rpps()
    # A hash of older parameters: a right password within the account's tries hashes it again.
    older = PasswordHasher(time_cost=1, memory_cost=8 * 1024, parallelism=1).hash(factories.PASSWORD)
    await Account.filter(id=account.id).update(password_hash=older)
    await _use_up(client, account.email or "")
    before = await Account.get(id=account.id)
    written = await _written()

    # Any password, the right one included, typed with the account's number, answers as the
    # same password typed with a number that names no account: words, factors, mask.
    for password in ("x" * 12, factories.PASSWORD):
        answers, work = [], []
        for typed in (number, unknown):
            argon2.runs = 0
            result = await Caller(client).gql(START, {"i": typed, "p": password})
            assert not result.errors, result.errors
            assert result.data["startLogin"]["codeSentTo"] == decoy_destination(typed)
            answers.append(_answer(result))
            work.append(argon2.runs)
        assert answers[0]["data"]["startLogin"]["factors"] == ["CODE"]
        assert answers[0] == {"data": {"startLogin": {
            "factors": ["CODE"], "codeSentTo": decoy_destination(number)}}}
        assert answers[1] == {"data": {"startLogin": {
            "factors": ["CODE"], "codeSentTo": decoy_destination(unknown)}}}
        # The same argon2 work as for no account (one check), and no hash made: not even
        # the right password's hash is made again with today's parameters.
        assert work == [1, 1]
    # Nothing sent, written or opened: no code, no message, no failure, no session.
    assert await _written() == written
    after = await Account.get(id=account.id)
    assert (after.password_hash, after.last_failed_login_at) == (older, before.last_failed_login_at)


async def test_a_code_typed_after_either_decoy_gets_the_same_answer(client: httpx.AsyncClient) -> None:
    account, record = await factories.patient()
    await _use_up(client, account.email or "")
    answers = []
    for typed in (record.ins, factories.new_ins()):
        started = (await Caller(client).gql(START, {"i": typed, "p": factories.PASSWORD})).ok()
        token = started["startLogin"]["attemptToken"]
        tried = await Caller(client).gql(COMPLETE, {"t": token, "c": "123456"})
        answers.append((tried.codes, tried.errors[0]["message"], tried.errors[0]["extensions"]))
    assert answers[0] == answers[1]
    assert answers[0][2]["reason"] == "WRONG_CODE"
    assert await Session.all().count() == 0


async def test_a_reset_asked_with_another_identifier_of_an_account_used_up_sends_nothing(
    client: httpx.AsyncClient,
) -> None:
    """The same through `requestPasswordReset`, which needs no password: 20 resets asked
    with the e-mail address, then one with the INS, answers as one with an unknown INS; its
    decoy's code tries count on the INS's own budget, as the unknown INS's do."""
    account, record = await factories.patient()
    await _use_up(client, account.email or "", resets=STARTS_PER_HOUR)
    written = await _written()
    unknown = factories.new_ins()
    answers = []
    for typed in (record.ins, unknown):
        asked = await Caller(client).gql(RESET, {"i": typed})
        assert not asked.errors
        token = asked.data["requestPasswordReset"]["attemptToken"]
        tried = await Caller(client).gql(DO_RESET, {"t": token, "c": "123456", "p": NEW_PASSWORD})
        answers.append((_answer(asked), tried.codes, tried.errors[0]["message"],
                        tried.errors[0]["extensions"]))
        decoy = await LoginAttempt.filter(purpose="PASSWORD_RESET").order_by("-created_at").first()
        assert decoy is not None and decoy.password_ok is False
        assert decoy.account_id is None  # type: ignore[attr-defined]
        assert decoy.budget == read_identifier(typed).digest
    assert answers[0] == answers[1]
    assert answers[0][3]["reason"] == "WRONG_CODE"
    assert await _written() == written
    assert (await Account.get(id=account.id)).password_hash == account.password_hash


async def test_the_typed_identifiers_own_counter_still_answers_rate_limited_after_20(
    client: httpx.AsyncClient,
) -> None:
    """Known or not, an identifier is refused at its own 21st try of the hour, with the same
    words, and nothing written; starts and resets count together."""
    account, record = await factories.patient()
    await _use_up(client, account.email or "")
    unknown = factories.new_ins()
    answers = []
    for typed in (record.ins, unknown):
        codes = []
        for n in range(STARTS_PER_HOUR):
            query, variables = (RESET, {"i": typed}) if n % 4 == 0 else (START, {"i": typed, "p": "y" * 12})
            result = await Caller(client).gql(query, variables)
            codes.append(result.codes[0] if result.codes else None)
        assert codes == [None] * STARTS_PER_HOUR
        attempts = await LoginAttempt.all().count()
        refused = [await Caller(client).gql(START, {"i": typed, "p": factories.PASSWORD}),
                   await Caller(client).gql(RESET, {"i": typed})]
        assert [r.codes for r in refused] == [["RATE_LIMITED"], ["RATE_LIMITED"]]
        assert await LoginAttempt.all().count() == attempts
        # The seconds to the hour's end (`retryAfter`) tell the time, nothing of the identifier.
        assert all(0 < r.errors[0]["extensions"].pop("retryAfter") <= 3600 for r in refused)
        answers.append([(r.errors[0]["message"], r.errors[0]["extensions"], r.data) for r in refused])
    assert answers[0] == answers[1]
    # The e-mail address, used up first, is refused as well.
    assert (await Caller(client).gql(START, {"i": account.email, "p": "z" * 12})).codes == ["RATE_LIMITED"]


async def test_under_the_accounts_tries_each_identifier_still_signs_in(
    client: httpx.AsyncClient,
) -> None:
    """The account's 20 are shared by its identifiers: 19 wrong passwords through the
    e-mail address leave one right password through the INS, which sends a code."""
    account, record = await factories.patient()
    for n in range(STARTS_PER_HOUR - 1):
        (await Caller(client).gql(START, {"i": account.email, "p": f"Wrong-pass-{n}"})).ok()
    started = (await Caller(client).gql(START, {"i": record.ins, "p": factories.PASSWORD})).ok()
    assert await OneTimeCode.filter(account_id=account.id).count() == 1
    assert started["startLogin"]["codeSentTo"] != decoy_destination(record.ins)


async def test_before_the_floor_the_statements_are_those_of_an_unknown_identifier(
    client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Until the password is checked, an INS whose account's tries are used up and an
    unknown INS run the same statements; the account's counter is taken after the check,
    where the answer's floor covers it (as it covers a failure written or a code sent)."""
    account, record = await factories.patient()
    await _use_up(client, account.email or "")
    floor = "-- the answer's floor starts"
    statements_now: list[str] = []
    original = login._within_account_bound

    async def marked(who: Account | None) -> bool:
        statements_now.append(floor)
        return await original(who)

    monkeypatch.setattr(login, "_within_account_bound", marked)
    shapes = []
    for typed in (record.ins, factories.new_ins()):
        with count_queries() as statements:
            statements_now = statements
            (await Caller(client).gql(START, {"i": typed, "p": "x" * 12})).ok()
        assert floor in statements
        before = statements[: statements.index(floor)]
        after = statements[statements.index(floor) + 1:]
        shapes.append([s.split(" WHERE ")[0] for s in before])
        # After it: the account's counter (refused) only for the account, then the decoy.
        others = [s for s in after if "rate_counter" not in s]
        assert [s.split(" (")[0] for s in others] == ['INSERT INTO "login_attempt"'], others
    assert shapes[0] == shapes[1] and any("rate_counter" in s for s in shapes[0])


async def test_after_such_a_decoy_only_the_accounts_own_passkey_signs_in(
    client: httpx.AsyncClient,
) -> None:
    account, record = await factories.patient()
    mine, theirs = SoftAuthenticator(), SoftAuthenticator()
    await register(Caller(client, session=await session_for(account)), mine)
    stranger, _ = await factories.patient()
    await register(Caller(client, session=await session_for(stranger)), theirs)
    await Session.all().delete()
    await _use_up(client, account.email or "")

    async def decoy() -> str:
        started = (await Caller(client).gql(START, {"i": record.ins, "p": factories.PASSWORD})).ok()
        assert started["startLogin"]["factors"] == ["CODE"]
        return str(started["startLogin"]["attemptToken"])

    async def with_passkey(authenticator: SoftAuthenticator, token: str | None) -> Any:
        options = await begin_login(Caller(client), token)
        return await finish_login(Caller(client), authenticator.assertion(options), token)

    # Another account's passkey never completes it.
    refused = await with_passkey(theirs, await decoy())
    assert refused.codes == ["BAD_USER_INPUT"]
    assert await Session.all().count() == 0
    # The account's own passkey completes it, as it signs in alone.
    signed = await with_passkey(mine, await decoy())
    assert signed.ok()["finishPasskeyLogin"]["me"]["id"] == str(account.id)
    alone = await with_passkey(mine, None)
    assert alone.ok()["finishPasskeyLogin"]["me"]["id"] == str(account.id)
    assert await Session.filter(account_id=account.id).count() == 2



async def _reset_tries(
    client: httpx.AsyncClient, smtp: SmtpServer, identifier: str, email: str | None, tries: int,
    *, right: bool = False,
) -> list[Any]:
    """A reset asked with `identifier`, `tries` codes tried on it (wrong ones, or with `right`
    the code sent): every error, whole. `email`: where a real account's codes go (None: no
    account, and no code to type but a made-up one)."""
    asked = (await Caller(client).gql(RESET, {"i": identifier})).ok()["requestPasswordReset"]
    sent = await smtp.code_for(email) if email else "000000"
    variables = {"t": asked["attemptToken"], "c": sent if right else wrong(sent), "p": NEW_PASSWORD}
    errors = []
    for _ in range(tries):
        result = await Caller(client).gql(DO_RESET, variables)
        assert len(result.errors) == 1 and not (result.data or {}).get("resetPassword")
        errors.append(result.errors[0])
    return errors


async def test_reset_code_tries_used_up_through_one_identifier_tell_nothing_of_another(
    client: httpx.AsyncClient, smtp_server: SmtpServer, argon2: CountingHasher
) -> None:
    """The same through a reset's code tries (ten a day per account): used up with codes sent
    to the e-mail address, a reset asked with the INS, whose code is sent, answers its tries
    as an unknown INS's decoy does, the right code included, until the INS's own ten."""
    account, record = await factories.patient()
    email = account.email or ""
    for _ in range(2):
        used = await _reset_tries(client, smtp_server, email, email, 5)
        assert [e["extensions"]["reason"] for e in used] == ["WRONG_CODE"] * 5
    argon2.runs = 0
    answers = {}
    for typed, goes_to in ((record.ins, email), (factories.new_ins(), None)):
        answers[goes_to] = [
            *await _reset_tries(client, smtp_server, typed, goes_to, 1, right=True),
            *await _reset_tries(client, smtp_server, typed, goes_to, 4),
            *await _reset_tries(client, smtp_server, typed, goes_to, 5),
            *await _reset_tries(client, smtp_server, typed, goes_to, 1),
        ]
    assert answers[email] == answers[None]
    reasons = [e["extensions"]["reason"] for e in answers[None]]
    assert reasons == ["WRONG_CODE"] * 10 + ["RESET_TRIES_USED_UP"]
    # No new password hashed, none set, no session.
    assert argon2.runs == 0
    assert (await Account.get(id=account.id)).password_hash == account.password_hash
    assert await Session.all().count() == 0
