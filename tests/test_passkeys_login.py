"""Logging in with a passkey, alone or after the password, and every refusal."""

from __future__ import annotations

import asyncio
import json
from datetime import timedelta

import httpx
import pytest

from backend import clock
from backend.auth.secrets_util import digest
from backend.models import Account, LoginAttempt, PasskeyChallenge, PasskeyCredential, Session
from tests import factories
from tests.conftest import Caller, GraphQLResult, session_for
from tests.passkey_flows import (
    BEGIN_LOGIN,
    ME,
    begin_login,
    cookie_set,
    finish_login,
    password_checked_attempt,
    register,
    session_count,
    stored,
)
from tests.soft_authenticator import SoftAuthenticator, SoftCredential


async def with_passkey(
    client: httpx.AsyncClient, *, counts: bool = True
) -> tuple[Account, SoftAuthenticator, SoftCredential]:
    """A patient who registered a passkey in an earlier, now finished, session."""
    account, _ = await factories.patient()
    authenticator = SoftAuthenticator()
    token = await session_for(account)
    cred = await register(Caller(client, session=token), authenticator, counts=counts)
    await Session.all().delete()
    return account, authenticator, cred


def session_cookie(result: GraphQLResult) -> str:
    header = result.response.headers["set-cookie"]
    assert "httponly" in header.lower() and "samesite=strict" in header.lower()
    return header.split(";", 1)[0].split("=", 1)[1]


async def assert_refused(
    result: GraphQLResult, cred: SoftCredential, code: str, *, sessions: int = 0
) -> None:
    """Refused with this code, no new session, no cookie, the credential untouched."""
    assert result.codes == [code], result.errors
    if code == "BAD_USER_INPUT":
        assert result.errors[0]["message"] == "passkey verification failed"
    assert result.data is None
    assert not cookie_set(result)
    assert await Session.all().count() == sessions
    row = await stored(cred)
    assert row.sign_count == 0 and row.last_used_at is None


async def test_passwordless_login(client: httpx.AsyncClient) -> None:
    account, authenticator, cred = await with_passkey(client)
    anonymous = Caller(client)
    options = json.loads(await begin_login(anonymous))
    assert options["allowCredentials"] == []
    assert options["userVerification"] == "required"
    assert options["rpId"] == "localhost"
    challenge = await PasskeyChallenge.get(challenge=options["challenge"])
    assert challenge.attempt_id is None and challenge.account_id is None  # type: ignore[attr-defined]

    result = await finish_login(anonymous, authenticator.assertion(json.dumps(options)))
    me = result.ok()["finishPasskeyLogin"]["me"]
    assert me == {"id": str(account.id), "role": "PATIENT", "displayName": account.display_name}
    token = session_cookie(result)
    session = await Session.get(token_hash=digest(token))
    assert session.account_id == account.id  # type: ignore[attr-defined]
    assert session.fresh_factor_at is not None
    assert (await Caller(client, session=token).gql(ME)).ok()["me"]["id"] == str(account.id)

    row = await stored(cred)
    assert row.sign_count == 1
    assert row.last_used_at is not None
    assert (await PasskeyChallenge.get(id=challenge.id)).used_at is not None


async def test_second_factor_login(client: httpx.AsyncClient) -> None:
    account, authenticator, cred = await with_passkey(client)
    attempt_token = await password_checked_attempt(account)
    anonymous = Caller(client)
    options = await begin_login(anonymous, attempt_token)
    assert [c["id"] for c in json.loads(options)["allowCredentials"]] == [cred.id]

    result = await finish_login(anonymous, authenticator.assertion(options), attempt_token)
    assert result.ok()["finishPasskeyLogin"]["me"]["id"] == str(account.id)
    assert cookie_set(result)
    attempt = await LoginAttempt.get(token_hash=digest(attempt_token))
    assert attempt.completed_at is not None
    assert (await stored(cred)).sign_count == 1
    # The attempt is finished: it cannot open a second session.
    again = await anonymous.gql(BEGIN_LOGIN, {"t": attempt_token})
    assert again.codes == ["BAD_USER_INPUT"]
    assert await session_count() == 1


async def test_practitioner_passwordless_login(client: httpx.AsyncClient) -> None:
    account, _ = await factories.practitioner()
    authenticator = SoftAuthenticator()
    await register(Caller(client, session=await session_for(account)), authenticator)
    options = await begin_login(Caller(client))
    result = await finish_login(Caller(client), authenticator.assertion(options))
    assert result.ok()["finishPasskeyLogin"]["me"]["role"] == "PRACTITIONER"


async def test_login_replaces_the_session_of_the_request(client: httpx.AsyncClient) -> None:
    account, authenticator, _ = await with_passkey(client)
    old = await session_for(account)
    caller = Caller(client, session=old)
    result = await finish_login(caller, authenticator.assertion(await begin_login(caller)))
    new = session_cookie(result)
    assert new != old
    assert (await Caller(client, session=old).gql(ME)).ok()["me"] is None
    assert (await Caller(client, session=new).gql(ME)).ok()["me"]["id"] == str(account.id)


async def test_synced_passkey_with_zero_count_is_accepted_repeatedly(
    client: httpx.AsyncClient,
) -> None:
    _, authenticator, cred = await with_passkey(client, counts=False)
    for _ in range(3):
        options = await begin_login(Caller(client))
        result = await finish_login(Caller(client), authenticator.assertion(options))
        result.ok()
        row = await stored(cred)
        assert row.sign_count == 0 and row.last_used_at is not None
    assert await session_count() == 3


async def test_wrong_origin_is_refused(client: httpx.AsyncClient, caplog: pytest.LogCaptureFixture) -> None:
    _, authenticator, cred = await with_passkey(client)
    options = await begin_login(Caller(client))
    response = authenticator.assertion(options, origin="https://dmp.evil.example")
    await assert_refused(await finish_login(Caller(client), response), cred, "BAD_USER_INPUT")
    # The refusal is logged with its reason, not with the origin the client sent.
    refusals = [r.getMessage() for r in caplog.records if "passkey login refused" in r.getMessage()]
    assert refusals and "origin" in refusals[0]
    assert not any("evil" in r.getMessage() for r in caplog.records)


async def test_wrong_rp_id_is_refused(client: httpx.AsyncClient) -> None:
    _, authenticator, cred = await with_passkey(client)
    options = await begin_login(Caller(client))
    response = authenticator.assertion(options, rp_id="evil.example")
    await assert_refused(await finish_login(Caller(client), response), cred, "BAD_USER_INPUT")


async def test_missing_user_verification_is_refused(client: httpx.AsyncClient) -> None:
    _, authenticator, cred = await with_passkey(client)
    options = await begin_login(Caller(client))
    response = authenticator.assertion(options, uv=False)
    await assert_refused(await finish_login(Caller(client), response), cred, "BAD_USER_INPUT")


async def test_challenge_never_issued_is_refused(client: httpx.AsyncClient) -> None:
    _, authenticator, cred = await with_passkey(client)
    options = await begin_login(Caller(client))
    response = authenticator.assertion(options, challenge="c2VsZi1tYWRlLWNoYWxsZW5nZQ")
    await assert_refused(await finish_login(Caller(client), response), cred, "BAD_USER_INPUT")


async def test_replayed_assertion_is_refused(client: httpx.AsyncClient) -> None:
    _, authenticator, cred = await with_passkey(client)
    options = await begin_login(Caller(client))
    response = authenticator.assertion(options)
    (await finish_login(Caller(client), response)).ok()
    await Session.all().delete()
    await PasskeyCredential.filter(id=(await stored(cred)).id).update(
        sign_count=0, last_used_at=None
    )
    await assert_refused(await finish_login(Caller(client), response), cred, "BAD_USER_INPUT")


async def test_parallel_replay_opens_one_session(client: httpx.AsyncClient) -> None:
    _, authenticator, _ = await with_passkey(client, counts=False)
    response = authenticator.assertion(await begin_login(Caller(client)))
    results = await asyncio.gather(*(finish_login(Caller(client), response) for _ in range(4)))
    assert sorted(len(r.errors) for r in results) == [0, 1, 1, 1]
    assert await session_count() == 1


async def test_registration_challenge_cannot_log_in(client: httpx.AsyncClient) -> None:
    account, authenticator, cred = await with_passkey(client)
    caller = Caller(client, session=await session_for(account))
    data = (await caller.gql("mutation { beginPasskeyRegistration { optionsJson } }")).ok()
    challenge = json.loads(data["beginPasskeyRegistration"]["optionsJson"])["challenge"]
    options = await begin_login(Caller(client))
    response = authenticator.assertion(options, challenge=challenge)
    await assert_refused(
        await finish_login(Caller(client), response), cred, "BAD_USER_INPUT", sessions=1
    )


async def test_challenge_of_another_attempt_is_refused(client: httpx.AsyncClient) -> None:
    account, authenticator, cred = await with_passkey(client)
    first = await password_checked_attempt(account)
    second = await password_checked_attempt(account)
    options = await begin_login(Caller(client), first)
    response = authenticator.assertion(options)
    await assert_refused(
        await finish_login(Caller(client), response, second), cred, "BAD_USER_INPUT"
    )
    assert await LoginAttempt.filter(completed_at__isnull=False).count() == 0


async def test_passwordless_challenge_cannot_complete_an_attempt(
    client: httpx.AsyncClient,
) -> None:
    account, authenticator, cred = await with_passkey(client)
    attempt_token = await password_checked_attempt(account)
    response = authenticator.assertion(await begin_login(Caller(client)))
    await assert_refused(
        await finish_login(Caller(client), response, attempt_token), cred, "BAD_USER_INPUT"
    )


async def test_attempt_challenge_cannot_log_in_passwordless(client: httpx.AsyncClient) -> None:
    account, authenticator, cred = await with_passkey(client)
    attempt_token = await password_checked_attempt(account)
    response = authenticator.assertion(await begin_login(Caller(client), attempt_token))
    await assert_refused(await finish_login(Caller(client), response), cred, "BAD_USER_INPUT")


async def test_credential_of_another_account_is_refused_as_second_factor(
    client: httpx.AsyncClient,
) -> None:
    _, mallory_authenticator, mallory_cred = await with_passkey(client)
    alice, _, alice_cred = await with_passkey(client)
    attempt_token = await password_checked_attempt(alice)
    options = await begin_login(Caller(client), attempt_token)
    response = mallory_authenticator.assertion(options, credential=mallory_cred)
    await assert_refused(
        await finish_login(Caller(client), response, attempt_token),
        mallory_cred,
        "BAD_USER_INPUT",
    )
    assert (await stored(alice_cred)).last_used_at is None
    assert (await LoginAttempt.get(token_hash=digest(attempt_token))).completed_at is None


async def test_decreasing_sign_count_is_refused(client: httpx.AsyncClient) -> None:
    _, authenticator, cred = await with_passkey(client)
    for _ in range(2):
        (await finish_login(Caller(client), authenticator.assertion(
            await begin_login(Caller(client))
        ))).ok()
    assert (await stored(cred)).sign_count == 2
    sessions = await session_count()
    last_used = (await stored(cred)).last_used_at
    for count in (1, 2, 0):  # lower, equal, and a reset to 0 over a counting key
        options = await begin_login(Caller(client))
        result = await finish_login(Caller(client), authenticator.assertion(
            options, sign_count=count
        ))
        assert result.codes == ["BAD_USER_INPUT"]
        assert not cookie_set(result)
        assert await session_count() == sessions
        row = await stored(cred)
        assert row.sign_count == 2 and row.last_used_at == last_used


async def test_expired_challenge_is_refused(client: httpx.AsyncClient) -> None:
    _, authenticator, cred = await with_passkey(client)
    options = await begin_login(Caller(client))
    response = authenticator.assertion(options)
    clock.shift(timedelta(minutes=5, seconds=1))
    await assert_refused(await finish_login(Caller(client), response), cred, "BAD_USER_INPUT")


async def test_removed_or_unknown_credential_is_refused(client: httpx.AsyncClient) -> None:
    _, authenticator, cred = await with_passkey(client)
    stranger = SoftAuthenticator()
    stranger.register(json.dumps({
        "rp": {"id": "localhost"}, "user": {"id": "AAAA"}, "challenge": "AAAA",
    }))
    result = await finish_login(Caller(client), stranger.assertion(await begin_login(Caller(client))))
    await assert_refused(result, cred, "BAD_USER_INPUT")


async def test_malformed_assertion_is_refused(client: httpx.AsyncClient) -> None:
    _, _, cred = await with_passkey(client)
    await begin_login(Caller(client))
    nested = "[" * 30_000 + "]" * 30_000  # beyond Python's stack, within 64 KB (no one signed in)
    for bad in ("null", "[]", "{}", json.dumps({"id": cred.id, "rawId": cred.id}), nested):
        await assert_refused(await finish_login(Caller(client), bad), cred, "BAD_USER_INPUT")


async def test_unknown_or_expired_attempt_is_refused(client: httpx.AsyncClient) -> None:
    account, authenticator, cred = await with_passkey(client)
    challenges = await PasskeyChallenge.all().count()
    expired = await password_checked_attempt(account)
    clock.shift(timedelta(minutes=11))
    for token in ("not-a-token", expired):
        result = await Caller(client).gql(BEGIN_LOGIN, {"t": token})
        assert result.codes == ["BAD_USER_INPUT"]
        assert "expired or is unknown" in result.errors[0]["message"]
    assert await PasskeyChallenge.all().count() == challenges
    options = await begin_login(Caller(client))
    result = await finish_login(Caller(client), authenticator.assertion(options), expired)
    assert result.codes == ["BAD_USER_INPUT"]
    assert await session_count() == 0
    assert (await stored(cred)).last_used_at is None


async def test_wrong_password_attempt_looks_real_but_never_signs_in(
    client: httpx.AsyncClient,
) -> None:
    """startLogin answers a wrong password with a decoy attempt; its passkey options are those
    of an unknown account's decoy (no passkey listed: they would tell, without the password,
    that the account exists and which passkeys it has), and another account's passkey does
    not complete it. (The account's own passkey signs in, as it would alone:
    tests/test_passkeys_locked.py.)"""
    account, authenticator, cred = await with_passkey(client)
    real = json.loads(await begin_login(Caller(client), await password_checked_attempt(account)))
    assert [c["id"] for c in real["allowCredentials"]] == [cred.id]
    decoy_token = await password_checked_attempt(account, password_ok=False)
    decoy = json.loads(await begin_login(Caller(client), decoy_token))
    unknown = (await Caller(client).gql(
        "mutation($i: String!, $p: String!) { startLogin(identifier: $i, password: $p) { attemptToken } }",
        {"i": "nobody@test.dmp", "p": factories.PASSWORD},
    )).ok()["startLogin"]["attemptToken"]
    nobody = json.loads(await begin_login(Caller(client), unknown))
    assert decoy.keys() == real.keys() == nobody.keys()
    assert decoy["allowCredentials"] == nobody["allowCredentials"] == []
    _, theirs, their_cred = await with_passkey(client)
    result = await finish_login(Caller(client), theirs.assertion(json.dumps(decoy)), decoy_token)
    await assert_refused(result, their_cred, "BAD_USER_INPUT")
    assert (await LoginAttempt.get(token_hash=digest(decoy_token))).completed_at is None
    assert (await stored(cred)).last_used_at is None


async def test_second_factor_after_start_login(client: httpx.AsyncClient) -> None:
    """The whole path a browser takes: startLogin with the password, then the passkey."""
    account, authenticator, _ = await with_passkey(client)
    started = (await Caller(client).gql(
        "mutation($i: String!, $p: String!) { startLogin(identifier: $i, password: $p) "
        "{ attemptToken factors } }",
        {"i": account.email, "p": factories.PASSWORD},
    )).ok()["startLogin"]
    assert "PASSKEY" in started["factors"]
    token = started["attemptToken"]
    options = await begin_login(Caller(client), token)
    result = await finish_login(Caller(client), authenticator.assertion(options), token)
    assert result.ok()["finishPasskeyLogin"]["me"]["id"] == str(account.id)
    assert await session_count() == 1


async def test_user_handle_of_another_account_is_refused(client: httpx.AsyncClient) -> None:
    _, authenticator, cred = await with_passkey(client)
    other, _, _ = await with_passkey(client)
    cred.user_handle = other.id.bytes
    response = authenticator.assertion(await begin_login(Caller(client)), credential=cred)
    await assert_refused(await finish_login(Caller(client), response), cred, "BAD_USER_INPUT")


async def test_anonymous_begins_are_bounded_per_address(client: httpx.AsyncClient) -> None:
    from backend.resolvers.passkeys import BEGINS_PER_HOUR

    for _ in range(BEGINS_PER_HOUR):
        await begin_login(Caller(client))
    result = await Caller(client).gql(BEGIN_LOGIN)
    assert result.codes == ["RATE_LIMITED"]
    assert await PasskeyChallenge.all().count() == BEGINS_PER_HOUR
    clock.shift(timedelta(hours=1))
    await begin_login(Caller(client))


def _mangled(response: str, path: tuple[str, ...], value: object) -> str:
    body = json.loads(response)
    target = body
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    return json.dumps(body)


async def test_mangled_assertions_are_refused_not_crashed(client: httpx.AsyncClient) -> None:
    _, authenticator, cred = await with_passkey(client)
    cases: list[tuple[tuple[str, ...], object]] = [
        (("response", "authenticatorData"), "AAAA"),
        (("response", "authenticatorData"), "!!not base64!!"),
        (("response", "signature"), ""),
        (("response", "signature"), "AAAA"),
        (("response", "clientDataJSON"), "e30"),  # {}
        (("response", "clientDataJSON"), 12),
        (("response",), None),
        (("id",), None),
        (("rawId",), "AAAA"),
        (("type",), "password"),
    ]
    for path, value in cases:
        response = authenticator.assertion(await begin_login(Caller(client)), sign_count=0)
        result = await finish_login(Caller(client), _mangled(response, path, value))
        assert result.codes == ["BAD_USER_INPUT"], (path, value, result.errors)
    assert await Session.all().count() == 0
    assert (await stored(cred)).last_used_at is None
