"""importCareHistory: a new item's externalId may not hold an invisible character.

Two ids that show alike ("MED-1" and "MED\u200b-1") would be two keys, two entries for one
item. Stored keys are not rewritten: an item whose id an earlier import stored as it was
sent is still matched, so it can still be corrected.
"""

from __future__ import annotations

import httpx
import pytest

from backend.models import AccessEvent, ActivationCode, Entry, ImportKey, Record
from tests import factories
from tests.care_items import IMPORT, insurer_token, medication_item
from tests.conftest import Caller

HIDDEN = [
    "MED\u200b-1",  # zero-width space
    "MED-\u202e1",  # right-to-left override
    "MED-\u20661",  # left-to-right isolate
    "\ufeffMED-1",  # byte order mark (zero-width no-break space)
    "MED-\u00ad1",  # soft hyphen
    "MED\t-1",  # a control that is a space, inside the id
    "MED-\x1b1",  # escape
    "MED-\x851",  # next line (C1 control)
    "MED-\ue0001",  # private use: shows as nothing, or as a box
]


async def _insurer(client: httpx.AsyncClient) -> Caller:
    return Caller(client, token=await insurer_token())


@pytest.mark.parametrize("external_id", HIDDEN)
async def test_a_new_item_with_an_invisible_character_in_its_id_is_refused(
    client: httpx.AsyncClient, external_id: str
) -> None:
    _, record = await factories.patient()
    insurer = await _insurer(client)
    new_ins = factories.new_ins()
    items = [
        medication_item(record.ins, 1),
        medication_item(record.ins, 1, externalId=external_id),
        medication_item(new_ins, 2, externalId=external_id, contactEmail="alice@example.org"),
    ]
    payload = (await insurer.gql(IMPORT, {"items": items})).ok()["importCareHistory"]
    assert (payload["accepted"], payload["created"]) == (1, 1)
    assert [(r["index"], r["code"]) for r in payload["rejected"]] == [
        (1, "BAD_USER_INPUT"), (2, "BAD_USER_INPUT")]
    for rejection in payload["rejected"]:
        assert f"item {rejection['index']}" in rejection["message"]
        assert "MED" not in rejection["message"]
    assert await Entry.all().values_list("external_id", flat=True) == ["MED-1"]
    assert await ImportKey.all().values_list("external_id", flat=True) == ["MED-1"]
    # The item alone for an INS without a record opens none, and sends no code.
    assert await Record.filter(ins=new_ins).count() == 0
    assert await ActivationCode.all().count() == 0
    assert await AccessEvent.filter(record_id=record.id, action="ENTRIES_IMPORTED").count() == 1


async def test_the_patients_other_items_still_open_the_record(client: httpx.AsyncClient) -> None:
    insurer = await _insurer(client)
    ins = factories.new_ins()
    items = [medication_item(ins, 1, externalId="MED\u200b-1"), medication_item(ins, 2)]
    payload = (await insurer.gql(IMPORT, {"items": items})).ok()["importCareHistory"]
    assert payload["created"] == 1
    assert [(r["index"], r["code"]) for r in payload["rejected"]] == [(0, "BAD_USER_INPUT")]
    record = await Record.get(ins=ins)
    assert await Entry.filter(record_id=record.id).values_list("external_id", flat=True) == ["MED-2"]


async def test_spaces_around_the_id_are_trimmed_as_before(client: httpx.AsyncClient) -> None:
    _, record = await factories.patient()
    insurer = await _insurer(client)
    items = [medication_item(record.ins, 1, externalId="\tMED-1 \n"),
             medication_item(record.ins, 2, externalId="MED\u00a02")]  # a no-break space shows
    payload = (await insurer.gql(IMPORT, {"items": items})).ok()["importCareHistory"]
    assert (payload["created"], payload["rejected"]) == (2, [])
    assert sorted(await ImportKey.all().values_list("external_id", flat=True)) == ["MED-1", "MED\u00a02"]


async def test_an_id_stored_so_before_is_still_matched(client: httpx.AsyncClient) -> None:
    """As an import before this rule stored it: the same item is unchanged, a changed one corrects it."""
    _, record = await factories.patient()
    insurer = await _insurer(client)
    stored_id = "MED\u200b-1"
    (await insurer.gql(IMPORT, {"items": [medication_item(record.ins, 1)]})).ok()
    await ImportKey.filter(record_id=record.id).update(external_id=stored_id)
    await Entry.filter(record_id=record.id).update(external_id=stored_id)
    same = medication_item(record.ins, 1, externalId=stored_id)
    again = (await insurer.gql(IMPORT, {"items": [same]})).ok()["importCareHistory"]
    assert again == {"accepted": 1, "created": 0, "corrected": 0, "unchanged": 1, "rejected": []}
    changed = medication_item(record.ins, 1, externalId=stored_id, title="Doliprane 500 mg")
    corrected = (await insurer.gql(IMPORT, {"items": [changed]})).ok()["importCareHistory"]
    assert (corrected["corrected"], corrected["rejected"]) == (1, [])
    versions = await Entry.filter(record_id=record.id)
    assert sorted((v.title, v.superseded) for v in versions) == [
        ("Doliprane 1000 mg #1", True), ("Doliprane 500 mg", False)]
    assert await ImportKey.filter(record_id=record.id).count() == 1
    # The same id in another record, where it is new, is refused.
    _, other = await factories.patient()
    refused = (await insurer.gql(IMPORT, {"items": [medication_item(other.ins, 1, externalId=stored_id)]})
               ).ok()["importCareHistory"]
    assert [(r["index"], r["code"]) for r in refused["rejected"]] == [(0, "BAD_USER_INPUT")]
    assert await Entry.filter(record_id=other.id).count() == 0
