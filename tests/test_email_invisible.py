"""An address about to be stored or written to holds no invisible character: a zero-width or
direction character makes an address that shows as another account's a different one.
Lookups still read an address as before (`normalize_email`), so one stored earlier signs in."""

from __future__ import annotations

import httpx
import pytest

from backend.auth.contacts import normalize_email, storable_email
from backend.models import Account, ActivationCode, OutboxMessage, Record
from tests import factories
from tests.auth_flows import login
from tests.conftest import Caller, session_for
from tests.smtp import SmtpServer

CHANGE_EMAIL = "mutation($e: String!) { changeEmail(newEmail: $e) { sentTo } }"
OPEN = """mutation($input: OpenRecordInput!) {
  openRecordForPatient(input: $input) { ins activationCode expiresAt sentTo } }"""

HIDDEN = [
    "lea\u200b@test.dmp",  # zero-width space
    "lea@te\u200dst.dmp",  # zero-width joiner in the domain
    "\u202elea@test.dmp",  # right-to-left override
    "lea\u00ad@test.dmp",  # soft hyphen
]


@pytest.mark.parametrize("address", HIDDEN)
def test_an_address_with_an_invisible_character_is_not_stored(address: str) -> None:
    assert storable_email(address) is None
    if address != "lea@te\u200dst.dmp":  # IDNA refuses it in a domain already
        assert normalize_email(address) is not None  # still read, as before, to look one up


@pytest.mark.parametrize("address", ["a,b@x.fr", "a>b@x.fr", "a[b]@x.fr", "a(b)@x.fr", "a;b@x.fr"])
def test_an_address_a_mail_client_reads_as_another_is_not_stored(address: str) -> None:
    assert storable_email(address) is None


def test_addresses_as_people_write_them_are_stored() -> None:
    assert storable_email("o'neil+dmp@x.fr") == "o'neil+dmp@x.fr"
    assert storable_email(" Léa.Martin@Exemple.fr ") == "léa.martin@exemple.fr"
    assert storable_email("jose@münchen.de") == "jose@münchen.de"


async def test_change_email_refuses_an_address_with_an_invisible_character(
    client: httpx.AsyncClient, smtp_server: SmtpServer,
) -> None:
    account, _ = await factories.patient()
    cookie = await login(client, smtp_server, account.email or "", factories.PASSWORD, account.email or "")
    smtp_server.clear()
    caller = Caller(client, session=cookie)
    before = await OutboxMessage.all().count()
    for address in HIDDEN:
        answer = await caller.gql(CHANGE_EMAIL, {"e": address})
        assert answer.errors[0]["extensions"]["reason"] == "INVALID_EMAIL", address
    assert (await Account.get(id=account.id)).pending_email is None
    assert await OutboxMessage.all().count() == before


async def test_open_record_for_patient_refuses_such_an_address(client: httpx.AsyncClient) -> None:
    doctor, _ = await factories.practitioner()
    caller = Caller(client, session=await session_for(doctor))
    ins = factories.new_ins()
    identity = {"ins": ins, "firstName": "Léa", "lastName": "Martin", "birthDate": "1990-04-02",
                "email": "lea\u200b@test.dmp"}
    answer = await caller.gql(OPEN, {"input": identity})
    assert answer.errors[0]["extensions"]["reason"] == "INVALID_EMAIL"
    assert not await Record.filter(ins=ins).exists()
    assert await ActivationCode.all().count() == 0
