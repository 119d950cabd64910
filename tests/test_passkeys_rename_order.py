"""Renaming a passkey: who asks is checked before what they typed; the name as shown."""

from __future__ import annotations

from datetime import timedelta

import httpx

from backend import clock
from backend.auth.secrets_util import digest
from backend.models import ApiToken, PasskeyCredential
from tests import factories
from tests.conftest import Caller, session_for
from tests.passkey_flows import register, stored
from tests.soft_authenticator import SoftAuthenticator

RENAME = """
mutation($id: ID!, $n: String!) { renamePasskey(id: $id, name: $n) { id name } }"""


async def test_a_caller_without_a_session_is_refused_whatever_the_name(
    client: httpx.AsyncClient,
) -> None:
    """An empty name answered FIELD_REQUIRED to anyone, signed in or not, before asking who
    they were; the other refusals of renamePasskey come first."""
    account, practitioner = await factories.practitioner()
    cred = await register(Caller(client, session=await session_for(account)), SoftAuthenticator())
    row_id = str((await stored(cred)).id)
    await ApiToken.create(
        name="LGC", token_hash=digest("tok-rename"), prefix="tok", scopes=["record:read"],
        practitioner=practitioner, expires_at=clock.now() + timedelta(days=1),
    )
    for name in ("   ", "\u200b"):
        anonymous = await Caller(client).gql(RENAME, {"id": row_id, "n": name})
        assert anonymous.codes == ["UNAUTHENTICATED"], anonymous.errors
        token = await Caller(client, token="tok-rename").gql(RENAME, {"id": row_id, "n": name})
        assert token.codes == ["FORBIDDEN"], token.errors
    assert (await stored(cred)).name == "Téléphone"


async def test_a_long_name_cut_at_a_space_keeps_no_space_at_its_end(
    client: httpx.AsyncClient,
) -> None:
    account, _ = await factories.patient()
    caller = Caller(client, session=await session_for(account))
    cred = await register(caller, SoftAuthenticator())
    row_id = str((await stored(cred)).id)
    long = "a" * 99 + " " + "b" * 50
    renamed = (await caller.gql(RENAME, {"id": row_id, "n": long})).ok()["renamePasskey"]
    assert renamed["name"] == "a" * 99
    assert (await PasskeyCredential.get(id=row_id)).name == "a" * 99
