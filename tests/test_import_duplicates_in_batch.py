"""importCareHistory: an item sent twice in one batch is answered as a later batch answers it.

An exact copy is `unchanged` (nothing written twice, no second event); a copy with other
content is a CONFLICT (which of the two is the correction, only a later batch says); a copy
of an item refused is refused alike.
"""

from __future__ import annotations

import httpx

from backend.models import AccessEvent, Entry, ImportKey, Record
from tests import factories
from tests.care_items import IMPORT, insurer_token, medication_item
from tests.conftest import Caller


async def _insurer(client: httpx.AsyncClient) -> Caller:
    return Caller(client, token=await insurer_token())


async def test_an_exact_copy_later_in_the_batch_is_unchanged(client: httpx.AsyncClient) -> None:
    _, record = await factories.patient()
    insurer = await _insurer(client)
    items = [medication_item(record.ins, 1), medication_item(record.ins, 2), medication_item(record.ins, 1)]
    payload = (await insurer.gql(IMPORT, {"items": items})).ok()["importCareHistory"]
    assert payload == {"accepted": 3, "created": 2, "corrected": 0, "unchanged": 1, "rejected": []}
    assert sorted(await Entry.filter(record_id=record.id).values_list("external_id", flat=True)) == [
        "MED-1", "MED-2"]
    assert await ImportKey.filter(record_id=record.id).count() == 2
    assert await AccessEvent.filter(record_id=record.id, action="ENTRIES_IMPORTED").count() == 1
    # The same item in a later batch: the same answer.
    again = (await insurer.gql(IMPORT, {"items": [items[0]]})).ok()["importCareHistory"]
    assert again == {"accepted": 1, "created": 0, "corrected": 0, "unchanged": 1, "rejected": []}
    assert await Entry.filter(record_id=record.id).count() == 2
    assert await AccessEvent.filter(record_id=record.id, action="ENTRIES_IMPORTED").count() == 1


async def test_copies_in_a_batch_that_opens_the_record(client: httpx.AsyncClient) -> None:
    insurer = await _insurer(client)
    ins = factories.new_ins()
    item = medication_item(ins, 1)
    payload = (await insurer.gql(IMPORT, {"items": [item, item, item]})).ok()["importCareHistory"]
    assert payload == {"accepted": 3, "created": 1, "corrected": 0, "unchanged": 2, "rejected": []}
    record = await Record.get(ins=ins)
    assert await Entry.filter(record_id=record.id).count() == 1
    assert await AccessEvent.filter(record_id=record.id).count() == 1


async def test_a_copy_of_a_correction_is_unchanged(client: httpx.AsyncClient) -> None:
    _, record = await factories.patient()
    insurer = await _insurer(client)
    (await insurer.gql(IMPORT, {"items": [medication_item(record.ins, 1)]})).ok()
    events = await AccessEvent.filter(record_id=record.id).count()
    changed = medication_item(record.ins, 1, title="Doliprane 500 mg")
    payload = (await insurer.gql(IMPORT, {"items": [changed, changed]})).ok()["importCareHistory"]
    assert payload == {"accepted": 2, "created": 0, "corrected": 1, "unchanged": 1, "rejected": []}
    versions = await Entry.filter(record_id=record.id, external_id="MED-1")
    assert sorted((v.title, v.superseded) for v in versions) == [
        ("Doliprane 1000 mg #1", True), ("Doliprane 500 mg", False)]
    assert await AccessEvent.filter(record_id=record.id).count() == events + 1


async def test_a_copy_with_other_content_is_a_conflict_and_writes_nothing(
    client: httpx.AsyncClient,
) -> None:
    _, record = await factories.patient()
    insurer = await _insurer(client)
    items = [medication_item(record.ins, 1), medication_item(record.ins, 1, title="Doliprane 500 mg")]
    payload = (await insurer.gql(IMPORT, {"items": items})).ok()["importCareHistory"]
    assert (payload["accepted"], payload["created"], payload["unchanged"]) == (1, 1, 0)
    assert [(r["index"], r["externalId"], r["code"]) for r in payload["rejected"]] == [
        (1, "MED-1", "CONFLICT")]
    assert "500" not in payload["rejected"][0]["message"]
    versions = await Entry.filter(record_id=record.id)
    assert [(v.title, v.superseded) for v in versions] == [("Doliprane 1000 mg #1", False)]
    # Sent in a later batch, the other content is the correction.
    later = (await insurer.gql(IMPORT, {"items": [items[1]]})).ok()["importCareHistory"]
    assert (later["corrected"], later["rejected"]) == (1, [])


async def test_a_copy_of_a_refused_item_is_refused_alike(client: httpx.AsyncClient) -> None:
    """Not `unchanged`: nothing of the first was written."""
    _, record = await factories.patient()
    insurer = await _insurer(client)
    (await insurer.gql(IMPORT, {"items": [medication_item(record.ins, 1)]})).ok()
    entries, events = await Entry.all().count(), await AccessEvent.filter(record_id=record.id).count()
    moved = {**medication_item(record.ins, 1), "section": "PROCEDURES", "code": "YYYY600",
             "title": "Acte", "details": {"ccamCode": "YYYY600"}}
    # Another patient's record: a batch that gives one INS two birth dates has all its items
    # refused (tests/test_import_denied_bound.py).
    _, second = await factories.patient()
    other_birth = medication_item(second.ins, 2, birthDate="1990-01-01")
    payload = (await insurer.gql(IMPORT, {"items": [moved, moved, other_birth, other_birth]})
               ).ok()["importCareHistory"]
    assert (payload["accepted"], payload["unchanged"]) == (0, 0)
    assert [(r["index"], r["code"]) for r in payload["rejected"]] == [
        (0, "BAD_USER_INPUT"), (1, "BAD_USER_INPUT"), (2, "BAD_USER_INPUT"), (3, "BAD_USER_INPUT")]
    assert payload["rejected"][0]["message"] == payload["rejected"][1]["message"]
    assert payload["rejected"][2]["message"] == payload["rejected"][3]["message"]
    assert await Entry.all().count() == entries
    # The items of another birth date are one denied attempt on the record (DESIGN §4); the
    # moved item is an input error, which writes nothing.
    assert await AccessEvent.filter(record_id=record.id).count() == events
    written = await AccessEvent.filter(record_id=second.id).order_by("seq")
    assert [(e.action, e.sections) for e in written] == [("ACCESS_DENIED", ["MEDICATIONS"])]


async def test_a_copy_whose_birth_date_differs_is_refused_as_in_a_later_batch(
    client: httpx.AsyncClient,
) -> None:
    insurer = await _insurer(client)
    ins = factories.new_ins()
    item = medication_item(ins, 1)
    other = medication_item(ins, 1, birthDate="1990-01-01")
    payload = (await insurer.gql(IMPORT, {"items": [item, other]})).ok()["importCareHistory"]
    later = (await insurer.gql(IMPORT, {"items": [other]})).ok()["importCareHistory"]
    assert payload["created"] == 1 and later["accepted"] == 0
    assert [(r["code"], r["message"]) for r in payload["rejected"]] == [
        (r["code"], r["message"]) for r in later["rejected"]] == [
        ("BAD_USER_INPUT", "birthDate does not match the record of this INS")]
    assert await Entry.filter(record__ins=ins).count() == 1
