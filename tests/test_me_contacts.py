"""`me { email phone codeChannel }`: the signed-in account's own contacts, to itself only."""

from __future__ import annotations

import httpx

from backend import accounts
from tests import factories
from tests.conftest import Caller, session_for
from tests.test_authz_reading import count_queries

ME = "{ me { email phone codeChannel } }"
NOTHING = {"email": None, "phone": None, "codeChannel": None}


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
    # The token acts for the practitioner's account, whose code channel is not its to read either.
    assert me == NOTHING
    assert (await Caller(client, session=await session_for(pro)).gql(ME)).ok()["me"]["codeChannel"] == "EMAIL"
    _, insurer = await accounts.create_token("cpam", ["insurer:import"], organization="CPAM")
    me = (await Caller(client, token=insurer).gql(ME)).ok()["me"]
    assert me == NOTHING
    assert (await Caller(client).gql(ME)).ok()["me"] is None


async def test_the_contacts_and_code_channel_are_read_in_one_statement(client: httpx.AsyncClient) -> None:
    patient, _ = await factories.patient(email="bea.contacts@test.dmp", phone="+33612345679")
    caller = Caller(client, session=await session_for(patient))
    (await caller.gql("{ me { id } }")).ok()  # warm up: the session's touch
    with count_queries() as bare:
        (await caller.gql("{ me { id } }")).ok()
    with count_queries() as one:
        (await caller.gql("{ me { email } }")).ok()
    with count_queries() as three:
        me = (await caller.gql(ME)).ok()["me"]
    # Twice `me` in one request still reads the account once.
    with count_queries() as aliased:
        both = (await caller.gql("{ a: me { email } b: me { phone codeChannel } }")).ok()
    assert me == {"email": "bea.contacts@test.dmp", "phone": "+33612345679", "codeChannel": "EMAIL"}
    assert both == {"a": {"email": me["email"]}, "b": {"phone": me["phone"], "codeChannel": "EMAIL"}}
    assert len(one) == len(bare) + 1
    assert len(three) == len(aliased) == len(one)
