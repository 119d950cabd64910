"""The emergency profile's input as an adversary sends it."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from backend.models import AccessEvent, Record
from tests import factories
from tests.conftest import Caller, session_for

PROFILE = ("mutation ($input: EmergencyProfileInput!) {"
           " updateEmergencyProfile(input: $input) { emergencyProfile { bloodGroup"
           " emergencyContacts { name phone relation } } } }")


async def test_a_flood_of_contacts_is_refused_without_converting_each(
    client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Any patient may send a list of 10,000 contacts (a 10 MB body holds 300,000): it is
    refused as TOO_MANY_CONTACTS, and its contacts are not each turned into an input object
    first, which took seconds of the event loop for such a list. Nothing is written."""
    from strawberry.types import arguments

    conversions = 0
    convert = arguments.convert_argument

    def counted(*args: Any, **kwargs: Any) -> object:
        nonlocal conversions
        conversions += 1
        return convert(*args, **kwargs)

    monkeypatch.setattr(arguments, "convert_argument", counted)
    patient, record = await factories.patient()
    owner = Caller(client, session=await session_for(patient))
    flood = [{"name": "Proche", "phone": "0612345678"}] * 10_000
    refused = await owner.gql(PROFILE, {"input": {"emergencyContacts": flood, "bloodGroup": "A+"}})
    assert refused.codes == ["BAD_USER_INPUT"]
    assert refused.errors[0]["extensions"]["reason"] == "TOO_MANY_CONTACTS"
    assert conversions < 100, conversions
    stored = await Record.get(id=record.id)
    assert (stored.blood_group, stored.emergency_contacts) == (None, [])
    assert not await AccessEvent.filter(record_id=record.id).exists()
    # Five contacts, given inline or as variables, with or without a relation, are kept.
    contacts = [{"name": f"Proche {n}", "phone": "06 12 34 56 78"} for n in range(4)]
    contacts.append({"name": "Sœur", "phone": "0612345678", "relation": "sœur"})
    kept = (await owner.gql(PROFILE, {"input": {"emergencyContacts": contacts}})).ok()
    shown = kept["updateEmergencyProfile"]["emergencyProfile"]["emergencyContacts"]
    assert [c["relation"] for c in shown] == [None] * 4 + ["sœur"]
    inline = ('mutation { updateEmergencyProfile(input: {bloodGroup: "o-", emergencyContacts:'
              ' [{name: "Ami", phone: "0612345678"}]}) { emergencyProfile { bloodGroup'
              ' emergencyContacts { name relation } } } }')
    profile = (await owner.gql(inline)).ok()["updateEmergencyProfile"]["emergencyProfile"]
    assert profile == {"bloodGroup": "O-", "emergencyContacts": [{"name": "Ami", "relation": None}]}


async def test_a_stranger_sending_a_flood_of_contacts_is_told_nothing_more(client: httpx.AsyncClient) -> None:
    """The count is checked after the access decision: to a practitioner without access, a
    record and an unknown INS answer alike, whatever the list."""
    _, record = await factories.patient()
    stranger, _ = await factories.practitioner()
    caller = Caller(client, session=await session_for(stranger))
    flood = [{"name": "Proche", "phone": "0612345678"}] * 1_000
    existing = await caller.gql(PROFILE, {"input": {"ins": record.ins, "emergencyContacts": flood}})
    unknown = await caller.gql(PROFILE, {"input": {"ins": factories.new_ins(), "emergencyContacts": flood}})
    assert existing.codes == unknown.codes == ["FORBIDDEN"]
    assert existing.errors[0]["message"] == unknown.errors[0]["message"]
    actions = await AccessEvent.filter(record_id=record.id).values_list("action", flat=True)
    assert list(actions) == ["ACCESS_DENIED"]
