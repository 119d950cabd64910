"""An account holds at most ten passkeys (each is listed in the options of every later
ceremony): an eleventh is refused with TOO_MANY_PASSKEYS before any challenge is stored, and
at its finish if ten were added meanwhile; nothing is written."""

from __future__ import annotations

import httpx

from backend.auth import passkeys
from backend.models import PasskeyChallenge, PasskeyCredential
from tests import factories
from tests.conftest import Caller, session_for
from tests.passkey_flows import BEGIN_REGISTRATION, FINISH_REGISTRATION, begin_registration, register
from tests.soft_authenticator import SoftAuthenticator


async def test_an_eleventh_passkey_is_refused(client: httpx.AsyncClient) -> None:
    account, _ = await factories.patient()
    caller = Caller(client, session=await session_for(account))
    for n in range(passkeys.MAX_PASSKEYS - 1):
        await register(caller, SoftAuthenticator(), name=f"Clé {n}")
    # The tenth is begun while nine are held, and an extra one is added before it finishes.
    options = await begin_registration(caller)
    await register(caller, SoftAuthenticator(), name="Clé 9")
    _, late = SoftAuthenticator().register(options)
    finished = await caller.gql(FINISH_REGISTRATION, {"c": late, "n": "En trop"})
    assert finished.codes == ["BAD_USER_INPUT"]
    assert finished.errors[0]["extensions"]["reason"] == "TOO_MANY_PASSKEYS"
    assert finished.errors[0]["extensions"]["max"] == passkeys.MAX_PASSKEYS
    assert await PasskeyCredential.filter(account_id=account.id).count() == passkeys.MAX_PASSKEYS
    challenges = await PasskeyChallenge.filter(account_id=account.id).count()
    begun = await caller.gql(BEGIN_REGISTRATION)
    assert begun.errors[0]["extensions"]["reason"] == "TOO_MANY_PASSKEYS"
    assert await PasskeyChallenge.filter(account_id=account.id).count() == challenges
    assert not await PasskeyCredential.filter(account_id=account.id, name="En trop").exists()
