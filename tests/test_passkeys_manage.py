"""Listing, renaming and removing one's passkeys."""

from __future__ import annotations

import httpx

from backend.auth.sessions import create_session
from backend.models import AccessEvent, Account, OutboxMessage, PasskeyCredential, Session
from tests import factories
from tests.conftest import Caller, session_for
from tests.passkey_flows import MY_PASSKEYS, begin_login, finish_login, register, stored
from tests.soft_authenticator import SoftAuthenticator, SoftCredential

RENAME = """
mutation($id: ID!, $n: String!) { renamePasskey(id: $id, name: $n) { id name } }"""
REMOVE = "mutation($id: ID!) { removePasskey(id: $id) }"


async def owner_with_passkey(
    client: httpx.AsyncClient,
) -> tuple[Account, Caller, SoftAuthenticator, SoftCredential]:
    account, _ = await factories.patient()
    caller = Caller(client, session=await session_for(account))
    authenticator = SoftAuthenticator()
    cred = await register(caller, authenticator, name="Ordinateur")
    await OutboxMessage.all().delete()
    return account, caller, authenticator, cred


async def test_list_shows_only_own_passkeys(client: httpx.AsyncClient) -> None:
    _, caller, _, cred = await owner_with_passkey(client)
    _, other_caller, _, _ = await owner_with_passkey(client)
    listed = (await caller.gql(MY_PASSKEYS)).ok()["myPasskeys"]
    assert [p["id"] for p in listed] == [str((await stored(cred)).id)]
    assert listed[0]["name"] == "Ordinateur"
    assert len((await other_caller.gql(MY_PASSKEYS)).ok()["myPasskeys"]) == 1


async def test_list_requires_sign_in(client: httpx.AsyncClient) -> None:
    result = await Caller(client).gql(MY_PASSKEYS)
    assert result.codes == ["UNAUTHENTICATED"]


async def test_rename(client: httpx.AsyncClient) -> None:
    _, caller, _, cred = await owner_with_passkey(client)
    row = await stored(cred)
    result = await caller.gql(RENAME, {"id": str(row.id), "n": "Clé USB"})
    assert result.ok()["renamePasskey"] == {"id": str(row.id), "name": "Clé USB"}
    assert (await stored(cred)).name == "Clé USB"
    # Controls and direction overrides are taken out: the name is shown and e-mailed.
    result = await caller.gql(RENAME, {"id": str(row.id), "n": "Clé\x1b[2J \u202egnp.exe"})
    assert result.ok()["renamePasskey"]["name"] == "Clé[2J gnp.exe"


async def test_rename_refusals_change_nothing(client: httpx.AsyncClient) -> None:
    _, caller, _, cred = await owner_with_passkey(client)
    _, intruder, _, _ = await owner_with_passkey(client)
    row_id = str((await stored(cred)).id)
    assert (await intruder.gql(RENAME, {"id": row_id, "n": "pris"})).codes == ["NOT_FOUND"]
    assert (await caller.gql(RENAME, {"id": "not-a-uuid", "n": "x"})).codes == ["NOT_FOUND"]
    assert (await caller.gql(RENAME, {"id": row_id, "n": "   "})).codes == ["BAD_USER_INPUT"]
    # Invisible only (zero-width, direction marks): empty as shown.
    assert (await caller.gql(RENAME, {"id": row_id, "n": "\u200b\u202e\x01"})).codes == ["BAD_USER_INPUT"]
    assert (await Caller(client).gql(RENAME, {"id": row_id, "n": "x"})).codes == [
        "UNAUTHENTICATED"
    ]
    assert (await stored(cred)).name == "Ordinateur"


async def test_remove_with_fresh_factor_emails_and_stops_login(
    client: httpx.AsyncClient,
) -> None:
    account, caller, authenticator, cred = await owner_with_passkey(client)
    row_id = str((await stored(cred)).id)
    assert (await caller.gql(REMOVE, {"id": row_id})).ok()["removePasskey"] is True
    last = await AccessEvent.filter(record__owner_id=account.id).order_by("-seq").first()
    assert last is not None and (last.action, last.reason) == (
        "SECURITY_CHANGED", "clé d'accès retirée"
    )
    assert await PasskeyCredential.all().count() == 0
    mails = await OutboxMessage.filter(account_id=account.id)
    assert len(mails) == 1 and mails[0].recipient == account.email
    assert "Ordinateur" in mails[0].body

    sessions = await Session.all().count()
    options = await begin_login(Caller(client))
    result = await finish_login(Caller(client), authenticator.assertion(options))
    assert result.codes == ["BAD_USER_INPUT"]
    assert await Session.all().count() == sessions


async def test_remove_requires_fresh_factor_and_ownership(client: httpx.AsyncClient) -> None:
    account, _, _, cred = await owner_with_passkey(client)
    _, intruder, _, _ = await owner_with_passkey(client)
    row_id = str((await stored(cred)).id)
    _, stale = await create_session(account, fresh_factor=False)
    result = await Caller(client, session=stale).gql(REMOVE, {"id": row_id})
    assert result.codes == ["FORBIDDEN"]
    assert result.errors[0]["message"].lower().startswith("a fresh second factor is required")
    assert (await intruder.gql(REMOVE, {"id": row_id})).codes == ["NOT_FOUND"]
    assert (await Caller(client).gql(REMOVE, {"id": row_id})).codes == ["UNAUTHENTICATED"]
    assert await PasskeyCredential.filter(id=row_id).exists()
    assert await OutboxMessage.all().count() == 0
    assert await AccessEvent.filter(action="SECURITY_CHANGED").count() == 2  # the two additions
