"""An account's phone and an emergency contact's phone are read by one rule
(backend/auth/contacts.normalize_phone): what one refuses, the other refuses."""

from __future__ import annotations

import httpx
import pytest

from backend.auth.contacts import normalize_phone
from backend.models import AccessEvent, Account
from tests import factories
from tests.conftest import Caller, session_for

CHANGE_PHONE = "mutation($p: String!) { changePhone(newPhone: $p) { sentTo } }"
UPDATE = """
mutation ($input: EmergencyProfileInput!) {
  updateEmergencyProfile(input: $input) { emergencyProfile { emergencyContacts { phone } } }
}"""

# Each starts with a separator, or has too few digits: no phone either way.
NOT_NUMBERS = ["-0612345678", ". 06 12 34 56 78", " - 33 6 12 34 56 78", "0-----", "06 12"]
NUMBERS = ["+33 6 12 34 56 78", "06.12.34.56.78", "0612345678", "+1-212-555-0100"]


@pytest.mark.parametrize("raw", NOT_NUMBERS)
def test_a_number_must_start_with_a_digit_or_plus(raw: str) -> None:
    assert normalize_phone(raw) is None


@pytest.mark.parametrize("raw", NUMBERS)
def test_numbers_as_people_write_them_are_kept_as_typed(raw: str) -> None:
    assert normalize_phone(f"  {raw} ") == raw


async def test_the_account_and_the_emergency_contact_refuse_the_same_numbers(
    client: httpx.AsyncClient,
) -> None:
    patient, record = await factories.patient()
    owner = Caller(client, session=await session_for(patient))
    for phone in NOT_NUMBERS:
        account_answer = await owner.gql(CHANGE_PHONE, {"p": phone})
        assert account_answer.errors[0]["extensions"]["reason"] == "INVALID_PHONE", phone
        contact = [{"name": "Paul", "phone": phone}]
        contact_answer = await owner.gql(UPDATE, {"input": {"emergencyContacts": contact}})
        assert contact_answer.errors[0]["extensions"]["reason"] == "INVALID_PHONE", phone
    assert (await Account.get(id=patient.id)).pending_phone is None
    await record.refresh_from_db()
    assert record.emergency_contacts == []
    assert await AccessEvent.filter(record_id=record.id).count() == 0
    contact = [{"name": "Paul", "phone": "+33 6 12 34 56 78"}]
    ok = await owner.gql(UPDATE, {"input": {"emergencyContacts": contact}})
    assert ok.ok()["updateEmergencyProfile"]["emergencyProfile"]["emergencyContacts"] == [
        {"phone": "+33 6 12 34 56 78"}]
