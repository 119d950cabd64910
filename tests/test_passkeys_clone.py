"""A passkey whose count runs behind the last one known, under a genuine signature: a copy
of the key (or a reset authenticator). Refused, and its holder is told, once a day."""

from __future__ import annotations

import json
from datetime import timedelta

import httpx

from backend import clock
from backend.models import Account, OutboxMessage, PasskeyCredential, Session
from tests import factories
from tests.conftest import Caller, session_for
from tests.passkey_flows import begin_login, cookie_set, finish_login, register, stored
from tests.soft_authenticator import SoftAuthenticator, SoftCredential, b64url


async def used_twice(client: httpx.AsyncClient) -> tuple[Account, SoftAuthenticator, SoftCredential]:
    account, _ = await factories.patient()
    authenticator = SoftAuthenticator()
    cred = await register(Caller(client, session=await session_for(account)), authenticator,
                          name="Clé USB")
    await Session.all().delete()
    for _ in range(2):
        (await finish_login(Caller(client), authenticator.assertion(
            await begin_login(Caller(client))
        ))).ok()
    await OutboxMessage.all().delete()
    assert (await stored(cred)).sign_count == 2
    return account, authenticator, cred


def copied_notices(messages: list[OutboxMessage]) -> list[OutboxMessage]:
    return [m for m in messages if "copiée" in m.subject]


async def test_a_count_behind_under_a_genuine_signature_is_refused_and_told(
    client: httpx.AsyncClient,
) -> None:
    """It was refused in silence: the holder never learnt that another device signs with
    their key."""
    account, authenticator, cred = await used_twice(client)
    sessions = await Session.all().count()
    last_used = (await stored(cred)).last_used_at
    for count in (1, 2):  # a copy made when the count was 1, or used in step with it
        result = await finish_login(Caller(client), authenticator.assertion(
            await begin_login(Caller(client)), sign_count=count
        ))
        assert result.codes == ["BAD_USER_INPUT"], result.errors
        assert result.errors[0]["extensions"]["reason"] == "PASSKEY_NOT_VERIFIED"
        assert not cookie_set(result)
    assert await Session.all().count() == sessions
    row = await stored(cred)
    assert row.sign_count == 2 and row.last_used_at == last_used
    notices = copied_notices(await OutboxMessage.filter(account_id=account.id))
    assert len(notices) == 1  # once a day: a copy's holder may try again and again
    assert notices[0].recipient == account.email
    assert "« Clé USB »" in notices[0].body
    # The next day, a new notice.
    clock.shift(timedelta(days=1))
    result = await finish_login(Caller(client), authenticator.assertion(
        await begin_login(Caller(client)), sign_count=1
    ))
    assert result.codes == ["BAD_USER_INPUT"]
    assert len(copied_notices(await OutboxMessage.filter(account_id=account.id))) == 2


async def test_a_low_count_without_the_keys_signature_tells_nobody(
    client: httpx.AsyncClient,
) -> None:
    """Anyone can send a low count: only a signature by the key makes it a copy."""
    account, authenticator, cred = await used_twice(client)
    response = json.loads(authenticator.assertion(await begin_login(Caller(client)), sign_count=1))
    response["response"]["signature"] = b64url(b"\x30\x06\x02\x01\x01\x02\x01\x01")
    result = await finish_login(Caller(client), json.dumps(response))
    assert result.codes == ["BAD_USER_INPUT"]
    assert await OutboxMessage.filter(account_id=account.id).count() == 0
    assert (await stored(cred)).sign_count == 2


async def test_a_synced_passkey_counting_zero_is_not_a_copy(client: httpx.AsyncClient) -> None:
    account, _ = await factories.patient()
    authenticator = SoftAuthenticator()
    cred = await register(Caller(client, session=await session_for(account)), authenticator,
                          counts=False)
    await OutboxMessage.all().delete()
    for _ in range(2):
        (await finish_login(Caller(client), authenticator.assertion(
            await begin_login(Caller(client))
        ))).ok()
    assert (await PasskeyCredential.get(credential_id=cred.id)).sign_count == 0
    assert await OutboxMessage.filter(account_id=account.id).count() == 0
