"""importCareHistory: the dates of an item at the edges, said as addEntry says them."""

from __future__ import annotations

import httpx

from backend.models import Entry
from tests import factories
from tests.care_items import IMPORT, insurer_token, medication_item
from tests.conftest import Caller


async def test_a_care_date_before_1900_is_too_old_not_before_the_birth(client: httpx.AsyncClient) -> None:
    insurer = Caller(client, token=await insurer_token())
    ins = factories.new_ins()
    items = [
        medication_item(ins, 1, birthDate="1900-01-01", date="1899-06-01"),
        medication_item(ins, 2, birthDate="1900-01-01", date="1898-12-31"),
        medication_item(ins, 3, birthDate="1900-01-01", date="1900-01-01"),
        medication_item(factories.new_ins(), 4, birthDate="2000-02-29", date="2000-02-28"),
        medication_item(factories.new_ins(), 5, birthDate="2000-02-29", date="2000-02-29"),
    ]
    payload = (await insurer.gql(IMPORT, {"items": items})).ok()["importCareHistory"]
    assert [(r["index"], r["message"]) for r in payload["rejected"]] == [
        (0, "date is too far in the past"),
        (1, "date is too far in the past"),
        (3, "date is before the patient's birth"),
    ]
    assert sorted(await Entry.all().values_list("external_id", flat=True)) == ["MED-3", "MED-5"]
