"""Operator provisioning (`backend/accounts.py`, behind `dmp create-account` and `dmp
create-token`): every refusal is a one-line `ProvisioningError` naming what is wrong, and
nothing is written. tests/test_cli.py runs the command itself for a few of them."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest

from backend import accounts
from backend.accounts import NewAccount, ProvisioningError
from backend.auth.secrets_util import digest
from backend.domain.enums import Profession, Role
from backend.models import Account, ApiToken, Practitioner, Record
from tests.factories import PASSWORD, new_ins, new_rpps
from tests.factories import practitioner as make_practitioner

PATIENT = NewAccount(
    role=Role.PATIENT, email="paul@test.dmp", password=PASSWORD, first_name="Paul",
    last_name="Test", ins="", birth_date=dt.date(1985, 5, 1), phone="+33 6 12 34 56 78",
)
SUPPORT = NewAccount(
    role=Role.SUPPORT, email="help@test.dmp", password=PASSWORD, first_name="Sam", last_name="Help",
)
DOCTOR = NewAccount(
    role=Role.PRACTITIONER, email="dr@test.dmp", password=PASSWORD, first_name="Dr",
    last_name="Test", rpps="", profession=Profession.MEDECIN, city="Lyon",
)


async def _written() -> tuple[int, int, int, int]:
    return (
        await Account.all().count(), await Record.all().count(),
        await Practitioner.all().count(), await ApiToken.all().count(),
    )


@pytest.mark.parametrize(
    ("base", "changes", "refusal"),
    [
        (PATIENT, {"email": "paul.test.dmp"}, "invalid e-mail address"),
        (PATIENT, {"email": "paul@test"}, "invalid e-mail address"),
        (PATIENT, {"phone": "call me"}, "invalid phone number"),
        (PATIENT, {"first_name": "  "}, "first and last name are required"),
        (PATIENT, {"last_name": ""}, "first and last name are required"),
        (PATIENT, {"password": "short"}, "12 characters"),
        (PATIENT, {"ins": None}, "a patient needs --ins and --birth-date"),
        (PATIENT, {"birth_date": None}, "a patient needs --ins and --birth-date"),
        (PATIENT, {"ins": "185057512345674"}, "INS"),  # a wrong key
        (PATIENT, {"birth_date": dt.date.today() + dt.timedelta(days=2)}, "the birth date is in the future"),
        (DOCTOR, {"rpps": None}, "a practitioner needs --rpps and --profession"),
        (DOCTOR, {"profession": None}, "a practitioner needs --rpps and --profession"),
        (DOCTOR, {"rpps": "10000000018"}, "RPPS"),  # a wrong check digit
        (DOCTOR, {"profession": Profession.INFIRMIER, "regulator": True},
         "a SAMU regulator must be a medecin"),
        # Checked as the sign-up checks them: these were stored, the phone as verified.
        (PATIENT, {"email": "nl@test.dmp\n"}, "invalid e-mail address"),
        (PATIENT, {"phone": "......"}, "invalid phone number"),
        (PATIENT, {"first_name": "Paul\nX"}, "control characters"),
        (PATIENT, {"birth_date": dt.date(1, 1, 1)}, "the birth date is before 1900-01-01"),
        (PATIENT, {"regulator": True}, "not for a patient account: --regulator"),
        (SUPPORT, {"city": "Lyon"}, "not for a support account: --city"),
    ],
)
async def test_an_account_with_bad_input_is_refused_and_nothing_is_written(
    base: NewAccount, changes: dict[str, object], refusal: str
) -> None:
    identifier = ({"ins": new_ins()} if base.role == Role.PATIENT
                  else {"rpps": new_rpps()} if base.role == Role.PRACTITIONER else {})
    new = dataclasses.replace(base, **{**identifier, **changes})
    before = await _written()
    with pytest.raises(ProvisioningError, match=refusal) as refused:
        await accounts.create_account(new)
    assert "\n" not in str(refused.value)
    assert await _written() == before


async def test_the_same_ins_rpps_or_e_mail_twice_is_refused_and_nothing_more_is_written() -> None:
    ins, rpps = new_ins(), new_rpps()
    await accounts.create_account(dataclasses.replace(PATIENT, ins=ins))
    await accounts.create_account(dataclasses.replace(DOCTOR, rpps=rpps))
    before = await _written()
    assert before[:3] == (2, 1, 1)
    attempts = [
        (dataclasses.replace(PATIENT, email="other@test.dmp", ins=ins),
         "a record with this INS already exists"),
        (dataclasses.replace(DOCTOR, email="other@test.dmp", rpps=rpps),
         "a practitioner with this RPPS already exists"),
        # The address is compared without case, as it is stored.
        (dataclasses.replace(PATIENT, email="PAUL@Test.dmp", ins=new_ins()), "already exists"),
    ]
    for new, refusal in attempts:
        with pytest.raises(ProvisioningError, match=refusal):
            await accounts.create_account(new)
    assert await _written() == before


async def test_a_token_with_bad_input_is_refused_and_nothing_is_written() -> None:
    _, doctor = await make_practitioner()
    before = await _written()
    refusals = [
        ({"name": " ", "scopes": ["practitioner"], "practitioner_rpps": doctor.rpps}, "--name is required"),
        ({"name": "app", "scopes": [], "practitioner_rpps": doctor.rpps}, "--scope must be among"),
        ({"name": "app", "scopes": ["admin"], "organization": "CNAM"}, "--scope must be among"),
        ({"name": "app", "scopes": ["practitioner"]}, "exactly one of --practitioner or --organization"),
        ({"name": "app", "scopes": ["practitioner"], "practitioner_rpps": doctor.rpps,
          "organization": "CNAM"}, "exactly one of --practitioner or --organization"),
        ({"name": "app", "scopes": ["insurer:import"], "organization": "CNAM", "expires_days": 0},
         "--expires-days must be between 1 and 3650"),
        ({"name": "app", "scopes": ["insurer:import"], "organization": "CNAM", "expires_days": 3651},
         "--expires-days must be between 1 and 3650"),
        ({"name": "app", "scopes": ["practitioner"], "practitioner_rpps": "10000000018"}, "RPPS"),
        ({"name": "app", "scopes": ["practitioner"], "practitioner_rpps": new_rpps()},
         "no practitioner with RPPS"),
        ({"name": "app", "scopes": ["practitioner", "insurer:import"], "practitioner_rpps": doctor.rpps},
         "a practitioner token cannot have the insurer:import scope"),
        ({"name": "app", "scopes": ["practitioner"], "organization": "CNAM"},
         "an organization token cannot have the practitioner scope"),
    ]
    for arguments, refusal in refusals:
        name = arguments.pop("name")
        scopes = arguments.pop("scopes")
        with pytest.raises(ProvisioningError, match=refusal):
            await accounts.create_token(name, scopes, **arguments)  # type: ignore[arg-type]
    assert await _written() == before


async def test_valid_input_is_written_as_given() -> None:
    """The counterpart of the refusals: the same inputs, corrected, are accepted."""
    ins, rpps = new_ins(), new_rpps()
    patient = await accounts.create_account(dataclasses.replace(PATIENT, email="Paul@Test.dmp", ins=ins))
    assert patient.email == "paul@test.dmp" and patient.email_verified and patient.phone_verified
    record = await Record.get(owner_id=patient.id)
    assert record.ins == ins and record.birth_date == dt.date(1985, 5, 1)
    doctor = await accounts.create_account(dataclasses.replace(DOCTOR, rpps=rpps, regulator=True))
    found = await Practitioner.get(account_id=doctor.id)
    assert found.rpps == rpps and found.is_regulator and found.city == "Lyon"
    row, token = await accounts.create_token("app", ["practitioner"], practitioner_rpps=rpps, expires_days=1)
    assert token.startswith("dmp_") and row.prefix == token[:12] and row.scopes == ["practitioner"]
    assert row.token_hash == digest(token) != token  # only its digest is kept
