"""importCareHistory: what an item's key is (record, organization, external id), and what a
late copy of an item that was corrected since does."""

from __future__ import annotations

import httpx

from backend import accounts
from backend.models import Entry, ImportKey
from tests import factories
from tests.care_items import IMPORT, INSURER, insurer_token, medication_item
from tests.conftest import Caller


async def test_one_external_id_in_two_organizations_or_two_records_is_two_items(
    client: httpx.AsyncClient,
) -> None:
    _, record = await factories.patient()
    _, other_record = await factories.patient()
    insurer = Caller(client, token=await insurer_token())
    _, token = await accounts.create_token("mutuelle", ["insurer:import"], organization="Mutuelle Bleue")
    mutuelle = Caller(client, token=token)
    for caller in (insurer, mutuelle):
        payload = (await caller.gql(IMPORT, {"items": [
            medication_item(record.ins, 1), medication_item(other_record.ins, 1)]})).ok()
        assert payload["importCareHistory"]["created"] == 2
    # The second organization's correction supersedes its own entry only.
    corrected = (await mutuelle.gql(IMPORT, {"items": [
        medication_item(record.ins, 1, title="Doliprane 500 mg")]})).ok()["importCareHistory"]
    assert (corrected["corrected"], corrected["created"]) == (1, 0)
    versions = await Entry.filter(record_id=record.id, external_id="MED-1").order_by("created_at")
    assert [(v.organization, v.title, v.superseded) for v in versions] == [
        (INSURER, "Doliprane 1000 mg #1", False),
        ("Mutuelle Bleue", "Doliprane 1000 mg #1", True),
        ("Mutuelle Bleue", "Doliprane 500 mg", False),
    ]
    assert await Entry.filter(record_id=other_record.id, superseded=False).count() == 2
    assert await ImportKey.all().count() == 4


async def test_a_late_copy_of_a_corrected_item_corrects_it_back(client: httpx.AsyncClient) -> None:
    """An item is compared with its current version only: a batch retried after a later batch
    corrected one of its items puts the old content back, as a correction (each version stays in
    the history). Retry a batch before sending the batches after it."""
    _, record = await factories.patient()
    insurer = Caller(client, token=await insurer_token())
    first = [medication_item(record.ins, 1)]
    (await insurer.gql(IMPORT, {"items": first})).ok()
    (await insurer.gql(IMPORT, {"items": [medication_item(record.ins, 1, title="Doliprane 500 mg")]})).ok()
    late = (await insurer.gql(IMPORT, {"items": first})).ok()["importCareHistory"]
    assert (late["corrected"], late["unchanged"]) == (1, 0)
    current = await Entry.get(record_id=record.id, external_id="MED-1", superseded=False)
    assert current.title == "Doliprane 1000 mg #1"
    assert await Entry.filter(record_id=record.id, external_id="MED-1").count() == 3
    again = (await insurer.gql(IMPORT, {"items": first})).ok()["importCareHistory"]
    assert (again["corrected"], again["unchanged"]) == (0, 1)
