"""Removing a passkey (lost, or stolen with its device) ends the sessions it opened; the
session that removes it, and the sessions opened otherwise, stay."""

from __future__ import annotations

import httpx

from backend.auth.secrets_util import digest
from backend.models import Session
from tests import factories
from tests.conftest import Caller, session_for
from tests.passkey_flows import ME, begin_login, finish_login, register, stored
from tests.soft_authenticator import SoftAuthenticator

REMOVE = "mutation($id: ID!) { removePasskey(id: $id) }"


def _cookie(result: object) -> str:
    header = result.response.headers["set-cookie"]  # type: ignore[attr-defined]
    return str(header.split(";", 1)[0].split("=", 1)[1])


async def _signed_in_with(client: httpx.AsyncClient, authenticator: SoftAuthenticator) -> str:
    anonymous = Caller(client)
    result = await finish_login(anonymous, authenticator.assertion(await begin_login(anonymous)))
    result.ok()
    return _cookie(result)


async def test_removing_a_passkey_ends_the_sessions_it_opened(client: httpx.AsyncClient) -> None:
    account, _ = await factories.patient()
    lost, kept = SoftAuthenticator(), SoftAuthenticator()
    setup = Caller(client, session=await session_for(account))
    lost_cred = await register(setup, lost, name="Téléphone perdu")
    await register(setup, kept, name="Ordinateur")
    by_lost = [await _signed_in_with(client, lost) for _ in range(2)]
    by_kept = await _signed_in_with(client, kept)
    rows = {t: await Session.get(token_hash=digest(t)) for t in [*by_lost, by_kept]}
    assert {rows[t].passkey_id for t in by_lost} == {(await stored(lost_cred)).id}

    # Removed from a session opened otherwise (a code, with a fresh factor).
    remover = await session_for(account)
    answer = await Caller(client, session=remover).gql(REMOVE, {"id": str((await stored(lost_cred)).id)})
    assert answer.ok()["removePasskey"] is True

    for token in by_lost:
        assert (await Caller(client, session=token).gql(ME)).ok()["me"] is None
    assert (await Caller(client, session=by_kept).gql(ME)).ok()["me"]["id"] == str(account.id)
    assert (await Caller(client, session=remover).gql(ME)).ok()["me"]["id"] == str(account.id)


async def test_the_session_that_removes_its_own_passkey_stays(client: httpx.AsyncClient) -> None:
    account, _ = await factories.patient()
    authenticator = SoftAuthenticator()
    cred = await register(Caller(client, session=await session_for(account)), authenticator)
    token = await _signed_in_with(client, authenticator)  # a passkey login is a fresh factor
    me = Caller(client, session=token)
    (await me.gql(REMOVE, {"id": str((await stored(cred)).id)})).ok()
    assert (await me.gql(ME)).ok()["me"]["id"] == str(account.id)
