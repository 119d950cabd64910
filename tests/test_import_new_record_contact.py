"""importCareHistory: a record the import opens gets the contact given by any of its items."""

from __future__ import annotations

import httpx

from backend.models import ActivationCode, OutboxMessage, Record
from tests import factories
from tests.care_items import IMPORT, insurer_token, medication_item
from tests.conftest import Caller


async def test_the_contact_of_a_later_item_of_the_batch_gets_the_activation_code(
    client: httpx.AsyncClient,
) -> None:
    """An extract gives the address on one line of the patient, not always the first."""
    insurer = Caller(client, token=await insurer_token())
    ins = factories.new_ins()
    items = [
        medication_item(ins, 1),
        # Another birth date: rejected, and its contact is not the patient's.
        medication_item(ins, 2, birthDate="1990-01-01", contactEmail="other@example.org"),
        medication_item(ins, 3, contactEmail="alice.martin@example.org"),
        medication_item(ins, 4, contactEmail="second@example.org"),
    ]
    payload = (await insurer.gql(IMPORT, {"items": items})).ok()["importCareHistory"]
    assert payload["created"] == 3
    assert [(r["index"], r["code"]) for r in payload["rejected"]] == [(1, "BAD_USER_INPUT")]
    record = await Record.get(ins=ins)
    assert record.pending_contact == "alice.martin@example.org"
    assert await ActivationCode.filter(record_id=record.id).count() == 1
    assert await OutboxMessage.filter(record_id=record.id).values_list("recipient", flat=True) == [
        "alice.martin@example.org"]


async def test_an_empty_contact_is_no_contact(client: httpx.AsyncClient) -> None:
    """As openRecordForPatient reads an empty address: an export writes "" for none."""
    insurer = Caller(client, token=await insurer_token())
    ins = factories.new_ins()
    items = [medication_item(ins, 1, contactEmail=""), medication_item(ins, 2, contactEmail="  "),
             medication_item(ins, 3, contactEmail="not an address")]
    payload = (await insurer.gql(IMPORT, {"items": items})).ok()["importCareHistory"]
    assert payload["created"] == 2
    assert [(r["index"], r["message"]) for r in payload["rejected"]] == [
        (2, "contactEmail is not an e-mail address")]
    record = await Record.get(ins=ins)
    assert record.pending_contact is None
    assert await ActivationCode.filter(record_id=record.id).count() == 0
