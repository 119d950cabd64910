"""A person's name is stored as it shows: direction controls (U+202E and friends) and zero-width
characters out, for `dmp create-account` (patients, practitioners and their city) and for the
record a practitioner opens on the web (the name its patient's account then takes). A name that
shows nothing is refused as an empty one (FIELD_REQUIRED on the web)."""

from __future__ import annotations

import dataclasses
import datetime as dt
import unicodedata

import httpx
import pytest

from backend import accounts
from backend.accounts import NewAccount, ProvisioningError
from backend.domain.enums import Profession, Role
from backend.models import AccessEvent, Account, ActivationCode, Practitioner, Record
from tests import factories
from tests.conftest import Caller, session_for
from tests.factories import new_ins, new_rpps

PASSWORD = "a-long-enough-passphrase"
# Each shows as the name after it, or reads otherwise: « Alice\u202eecilA » shows « AliceAlicE ».
SHOWN_AS = [
    ("Al\u202eice", "Alice"),
    ("\u2066Martin\u2069", "Martin"),
    ("Ma\u200brtin\u200d", "Martin"),
    ("\ufeffLéa\u00ad", "Léa"),
    ("Jean\u200e \u200fPierre", "Jean Pierre"),
    (unicodedata.normalize("NFD", "Éloïse"), "Éloïse"),
]
SHOWS_NOTHING = ["\u202e", "\u200b\u200c", " \u2066\u2069 ", "\u00ad"]
OPEN = """mutation($input: OpenRecordInput!) {
  openRecordForPatient(input: $input) { ins activationCode } }"""


def _doctor(**kw: object) -> NewAccount:
    return dataclasses.replace(NewAccount(
        role=Role.PRACTITIONER, email="doc@test.dmp", password=PASSWORD, first_name="Anne",
        last_name="Roux", rpps=new_rpps(), profession=Profession.MEDECIN, city="Lyon",
    ), **kw)


@pytest.mark.parametrize(("typed", "shown"), SHOWN_AS)
async def test_create_account_stores_the_name_as_it_shows(typed: str, shown: str) -> None:
    account = await accounts.create_account(_doctor(first_name=typed, last_name=typed, city=typed))
    stored = await Account.get(id=account.id)
    assert (stored.first_name, stored.last_name) == (shown, shown)
    practitioner = await Practitioner.get(account_id=account.id)
    assert practitioner.city == shown
    assert practitioner.search_text == f"{practitioner.rpps} {shown} {shown} {shown}".lower()
    patient = await accounts.create_account(NewAccount(
        role=Role.PATIENT, email="pat@test.dmp", password=PASSWORD, first_name=typed,
        last_name=typed, ins=new_ins(), birth_date=dt.date(1990, 4, 2),
    ))
    record = await Record.get(owner_id=patient.id)
    assert (record.first_name, record.last_name) == (shown, shown)


@pytest.mark.parametrize("typed", SHOWS_NOTHING)
@pytest.mark.parametrize("field", ["first_name", "last_name"])
async def test_create_account_refuses_a_name_that_shows_nothing(typed: str, field: str) -> None:
    with pytest.raises(ProvisioningError, match="first and last name are required"):
        await accounts.create_account(_doctor(**{field: typed}))
    assert await Account.all().count() == 0
    assert await Practitioner.all().count() == 0


async def test_a_city_that_shows_nothing_is_no_city() -> None:
    account = await accounts.create_account(_doctor(city="\u202e\u200b"))
    assert (await Practitioner.get(account_id=account.id)).city == ""


def _identity(ins: str, first: str, last: str) -> dict[str, str]:
    return {"ins": ins, "firstName": first, "lastName": last, "birthDate": "1990-04-02"}


@pytest.mark.parametrize(("typed", "shown"), SHOWN_AS)
async def test_a_record_opened_on_the_web_keeps_the_name_as_it_shows(
    client: httpx.AsyncClient, typed: str, shown: str
) -> None:
    account, _ = await factories.practitioner()
    doctor = Caller(client, session=await session_for(account))
    ins = new_ins()
    (await doctor.gql(OPEN, {"input": _identity(ins, typed, typed)})).ok()
    record = await Record.get(ins=ins)
    assert (record.first_name, record.last_name) == (shown, shown)
    # The same patient at another desk, typed plainly: the same identity, a new code.
    (await doctor.gql(OPEN, {"input": _identity(ins, shown, shown)})).ok()


@pytest.mark.parametrize("typed", SHOWS_NOTHING)
@pytest.mark.parametrize(("field", "other"), [("firstName", "lastName"), ("lastName", "firstName")])
async def test_a_record_opened_with_a_name_that_shows_nothing_is_refused(
    client: httpx.AsyncClient, typed: str, field: str, other: str
) -> None:
    account, _ = await factories.practitioner()
    doctor = Caller(client, session=await session_for(account))
    identity = {**_identity(new_ins(), "", ""), field: typed, other: "Martin"}
    refused = await doctor.gql(OPEN, {"input": identity})
    assert refused.codes == ["BAD_USER_INPUT"]
    assert refused.errors[0]["extensions"]["reason"] == "FIELD_REQUIRED"
    assert refused.errors[0]["extensions"]["field"] == field
    assert refused.data is None
    assert await Record.all().count() == 0
    assert await ActivationCode.all().count() == 0
    assert await AccessEvent.all().count() == 0
