"""Renaming a passkey is written in the owner's history, as adding and removing one are; a
refused rename, or one that changes nothing, writes nothing."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest

from backend.models import AccessEvent, Account, OutboxMessage, PasskeyCredential
from backend.resolvers import passkeys as resolver
from backend.resolvers.context import Context
from tests import factories
from tests.conftest import Caller, session_for
from tests.passkey_flows import register, stored
from tests.soft_authenticator import SoftAuthenticator

RENAME = """
mutation($id: ID!, $n: String!) { renamePasskey(id: $id, name: $n) { id name } }"""


async def events(account: Account) -> list[tuple[str, str]]:
    rows = await AccessEvent.filter(record__owner_id=account.id).order_by("seq")
    return [(e.action, e.reason) for e in rows]


async def test_a_rename_is_written_in_the_owners_history_and_e_mails_no_one(
    client: httpx.AsyncClient,
) -> None:
    """It changed the name and wrote nothing: the holder's history showed a passkey added and
    removed, never its names changed."""
    account, _ = await factories.patient()
    caller = Caller(client, session=await session_for(account))
    cred = await register(caller, SoftAuthenticator(), name="Ordinateur")
    row_id = str((await stored(cred)).id)
    before = await events(account)
    mails = await OutboxMessage.all().count()
    renamed = (await caller.gql(RENAME, {"id": row_id, "n": "Clé USB"})).ok()["renamePasskey"]
    assert renamed == {"id": row_id, "name": "Clé USB"}
    assert await events(account) == [*before, ("SECURITY_CHANGED", "clé d'accès renommée")]
    assert await OutboxMessage.all().count() == mails

    # The name it has already (as shown: spaces folded) changes nothing, and writes nothing.
    again = (await caller.gql(RENAME, {"id": row_id, "n": "  Clé   USB "})).ok()["renamePasskey"]
    assert again == {"id": row_id, "name": "Clé USB"}
    assert len(await events(account)) == len(before) + 1


async def test_refused_renames_write_no_event(client: httpx.AsyncClient) -> None:
    account, _ = await factories.patient()
    caller = Caller(client, session=await session_for(account))
    cred = await register(caller, SoftAuthenticator(), name="Ordinateur")
    stranger, _ = await factories.patient()
    intruder = Caller(client, session=await session_for(stranger))
    row_id = str((await stored(cred)).id)
    written = await AccessEvent.all().count()
    assert (await caller.gql(RENAME, {"id": row_id, "n": "\u200b "})).codes == ["BAD_USER_INPUT"]
    assert (await intruder.gql(RENAME, {"id": row_id, "n": "pris"})).codes == ["NOT_FOUND"]
    assert (await Caller(client).gql(RENAME, {"id": row_id, "n": "x"})).codes == ["UNAUTHENTICATED"]
    assert await AccessEvent.all().count() == written
    assert (await stored(cred)).name == "Ordinateur"


async def test_a_passkey_removed_while_it_was_renamed_is_not_found_and_writes_nothing(
    client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch,
) -> None:
    account, _ = await factories.patient()
    caller = Caller(client, session=await session_for(account))
    cred = await register(caller, SoftAuthenticator(), name="Ordinateur")
    row_id = (await stored(cred)).id
    before = await events(account)
    original = resolver.security_change

    @asynccontextmanager
    async def removed_meanwhile(ctx: Context, owner: Account, what: str) -> AsyncIterator[Any]:
        await PasskeyCredential.filter(id=row_id).delete()  # as a removal committed meanwhile
        async with original(ctx, owner, what) as conn:
            yield conn

    monkeypatch.setattr(resolver, "security_change", removed_meanwhile)
    assert (await caller.gql(RENAME, {"id": str(row_id), "n": "Clé USB"})).codes == ["NOT_FOUND"]
    assert await events(account) == before


async def test_a_practitioners_rename_owns_no_history_and_still_renames(client: httpx.AsyncClient) -> None:
    account, _ = await factories.practitioner()
    caller = Caller(client, session=await session_for(account))
    cred = await register(caller, SoftAuthenticator(), name="Ordinateur")
    row_id = str((await stored(cred)).id)
    written = await AccessEvent.all().count()
    renamed = (await caller.gql(RENAME, {"id": row_id, "n": "Cabinet"})).ok()["renamePasskey"]
    assert renamed["name"] == "Cabinet"
    assert (await stored(cred)).name == "Cabinet"
    assert await AccessEvent.all().count() == written
