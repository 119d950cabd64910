"""`me { email phone }`: the signed-in account's own contacts, to itself only."""

from __future__ import annotations

import httpx

from backend import accounts
from tests import factories
from tests.conftest import Caller, session_for

ME = "{ me { email phone codeChannel } }"


async def test_an_account_reads_its_own_contacts(client: httpx.AsyncClient) -> None:
    patient, _ = await factories.patient(email="alice.contacts@test.dmp", phone="+33612345678")
    me = (await Caller(client, session=await session_for(patient)).gql(ME)).ok()["me"]
    assert (me["email"], me["phone"]) == ("alice.contacts@test.dmp", "+33612345678")
    pro, _ = await factories.practitioner()
    me = (await Caller(client, session=await session_for(pro)).gql(ME)).ok()["me"]
    assert me["email"] == pro.email and me["phone"] is None


async def test_no_contacts_for_a_partner_token_or_anonymous(client: httpx.AsyncClient) -> None:
    pro, practitioner = await factories.practitioner()
    _, token = await accounts.create_token("cabinet", ["practitioner"], practitioner_rpps=practitioner.rpps)
    me = (await Caller(client, token=token).gql(ME)).ok()["me"]
    assert me is not None and (me["email"], me["phone"]) == (None, None)
    assert (await Caller(client).gql(ME)).ok()["me"] is None
