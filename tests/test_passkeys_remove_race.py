"""Removing one passkey twice at once: one removal, one event, one e-mail."""

from __future__ import annotations

import asyncio

import httpx

from backend.auth import passkeys
from backend.models import AccessEvent, OutboxMessage, PasskeyCredential
from tests import factories
from tests.conftest import Caller, session_for
from tests.passkey_flows import register, stored
from tests.soft_authenticator import SoftAuthenticator

REMOVE = "mutation($id: ID!) { removePasskey(id: $id) }"


async def test_a_passkey_removed_twice_at_once_is_removed_once(client: httpx.AsyncClient) -> None:
    """Both removals read the row before either deleted it: each wrote « clé d'accès retirée »
    in the history and e-mailed the patient, for one passkey removed."""
    account, record = await factories.patient()
    caller = Caller(client, session=await session_for(account))
    cred = await register(caller, SoftAuthenticator(), name="Ordinateur")
    row_id = str((await stored(cred)).id)
    await OutboxMessage.all().delete()
    results = await asyncio.gather(*(caller.gql(REMOVE, {"id": row_id}) for _ in range(4)))
    assert sorted(r.codes for r in results) == [[], ["NOT_FOUND"], ["NOT_FOUND"], ["NOT_FOUND"]]
    assert await PasskeyCredential.filter(account_id=account.id).count() == 0
    removed = await AccessEvent.filter(record_id=record.id, reason="clé d'accès retirée").count()
    assert removed == 1
    assert await OutboxMessage.filter(account_id=account.id).count() == 1


async def test_a_practitioners_passkey_removed_twice_at_once_is_told_once(
    client: httpx.AsyncClient,
) -> None:
    """An account without a record: no event, the transaction alone; one e-mail."""
    account, _ = await factories.practitioner()
    caller = Caller(client, session=await session_for(account))
    cred = await register(caller, SoftAuthenticator())
    row_id = str((await stored(cred)).id)
    await OutboxMessage.all().delete()
    results = await asyncio.gather(*(caller.gql(REMOVE, {"id": row_id}) for _ in range(4)))
    assert sorted(r.codes for r in results) == [[], ["NOT_FOUND"], ["NOT_FOUND"], ["NOT_FOUND"]]
    assert await PasskeyCredential.filter(account_id=account.id).count() == 0
    assert await OutboxMessage.filter(account_id=account.id).count() == 1


async def test_the_removal_notice_names_the_passkey_as_renamed_meanwhile() -> None:
    """The passkey read before a rename committed, then removed: the notice names it as its
    holder now knows it, not by the name it had when the removal began."""
    account, _ = await factories.practitioner()
    row = await PasskeyCredential.create(
        account_id=account.id, credential_id="renamed-meanwhile", public_key=b"k", sign_count=0,
        name="Ancien nom",
    )
    await PasskeyCredential.filter(id=row.id).update(name="Nouveau nom")  # committed since
    await OutboxMessage.all().delete()
    await passkeys.remove(account, row)
    (notice,) = await OutboxMessage.filter(account_id=account.id)
    assert "Nouveau nom" in notice.body and "Ancien nom" not in notice.body
    assert not await PasskeyCredential.filter(id=row.id).exists()
