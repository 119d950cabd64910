"""Renaming and removing passkeys on an account whose code login is locked (ten wrong codes in
a day): its passkeys are then its only way in, and stay as they are until support unlocks it.
The refusal is the lock's (RATE_LIMITED, reason CODE_LOGIN_LOCKED), and nothing is written: no
row changed, no event, no notice, no session ended."""

from __future__ import annotations

import httpx

from backend import clock, config
from backend.models import AccessEvent, Account, OutboxMessage, PasskeyCredential, Session
from tests import factories
from tests.conftest import Caller, session_for
from tests.passkey_flows import begin_login, finish_login, register, stored
from tests.soft_authenticator import SoftAuthenticator

RENAME = """
mutation($id: ID!, $n: String!) { renamePasskey(id: $id, name: $n) { id name } }"""
REMOVE = "mutation($id: ID!) { removePasskey(id: $id) }"


async def lock(account: Account) -> None:
    await Account.filter(id=account.id).update(locked_at=clock.now(), lock_reason="too many wrong codes")


async def what_is_written(account: Account) -> tuple[object, ...]:
    passkeys = await PasskeyCredential.filter(account_id=account.id).order_by("created_at")
    return (
        [(p.id, p.name) for p in passkeys],
        await AccessEvent.all().count(),
        await OutboxMessage.all().count(),
        await Session.filter(revoked_at=None).count(),
    )


async def test_a_locked_account_signed_in_with_its_passkey_keeps_its_last_one(
    client: httpx.AsyncClient,
) -> None:
    """A locked account's session (here opened by its passkey, which a lock does not stop, and
    so with a fresh factor) removed its last passkey: only support could then let it in."""
    account, _ = await factories.patient()
    authenticator = SoftAuthenticator()
    cred = await register(Caller(client, session=await session_for(account)), authenticator)
    await lock(account)
    signed_in = await finish_login(Caller(client), authenticator.assertion(await begin_login(Caller(client))))
    signed_in.ok()
    caller = Caller(client, session=signed_in.response.cookies[config.settings().session_cookie])
    row_id = str((await stored(cred)).id)
    before = await what_is_written(account)

    removed = await caller.gql(REMOVE, {"id": row_id})
    assert removed.codes == ["RATE_LIMITED"], removed.errors
    assert "locked" in removed.errors[0]["message"]
    renamed = await caller.gql(RENAME, {"id": row_id, "n": "Ancienne clé"})
    assert renamed.codes == ["RATE_LIMITED"], renamed.errors
    # The lock's reason, as sign-in says it: waiting does not lift it, support does.
    for refused in (removed, renamed):
        assert refused.errors[0]["extensions"] == {"code": "RATE_LIMITED", "reason": "CODE_LOGIN_LOCKED"}
    assert await what_is_written(account) == before
    assert (await stored(cred)).name == "Téléphone"

    # Support lifts the lock: the same session manages its passkeys again.
    await Account.filter(id=account.id).update(locked_at=None, lock_reason=None)
    assert (await caller.gql(RENAME, {"id": row_id, "n": "Ancienne clé"})).ok()
    assert (await caller.gql(REMOVE, {"id": row_id})).ok()["removePasskey"] is True
    assert not await PasskeyCredential.filter(account_id=account.id).exists()


async def test_a_locked_account_removes_or_renames_none_of_several_passkeys(
    client: httpx.AsyncClient,
) -> None:
    """Not only the last one: the session here was opened before the lock, its factor fresh."""
    account, _ = await factories.patient()
    caller = Caller(client, session=await session_for(account))
    first = await register(caller, SoftAuthenticator(), name="Ordinateur")
    second = await register(caller, SoftAuthenticator(), name="Téléphone")
    await lock(account)
    before = await what_is_written(account)
    for cred in (first, second):
        row_id = str((await stored(cred)).id)
        assert (await caller.gql(REMOVE, {"id": row_id})).codes == ["RATE_LIMITED"]
        assert (await caller.gql(RENAME, {"id": row_id, "n": "x"})).codes == ["RATE_LIMITED"]
    assert await what_is_written(account) == before


async def test_the_lock_is_told_only_to_the_accounts_own_session(client: httpx.AsyncClient) -> None:
    """A locked account's passkey asked for by a stranger's session is not found, as any other
    account's is: the answer tells no one else of the lock."""
    account, _ = await factories.patient()
    cred = await register(Caller(client, session=await session_for(account)), SoftAuthenticator())
    stranger, _ = await factories.patient()
    await lock(account)
    intruder = Caller(client, session=await session_for(stranger))
    row_id = str((await stored(cred)).id)
    before = await what_is_written(account)
    assert (await intruder.gql(REMOVE, {"id": row_id})).codes == ["NOT_FOUND"]
    assert (await intruder.gql(RENAME, {"id": row_id, "n": "x"})).codes == ["NOT_FOUND"]
    assert await what_is_written(account) == before
