"""Import keys stored by earlier versions still match: the content hash is a stable format."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from typing import Any

import httpx

from backend.models import Entry, ImportKey
from tests import factories
from tests.care_items import IMPORT, insurer_token, medication_item
from tests.conftest import Caller


def _hash_as_first_released(item: dict[str, Any], details: dict[str, Any]) -> str:
    """The content hash as the import computed it when import keys were first stored."""
    canonical = json.dumps(
        {"section": item["section"], "code": item["code"], "title": item["title"].strip(),
         "date": item["date"], "details": details},
        sort_keys=True, separators=(",", ":"), ensure_ascii=False,
    )
    return hashlib.sha256(canonical.encode()).hexdigest()


async def test_keys_hashed_by_the_first_release_leave_a_reimport_unchanged(
    client: httpx.AsyncClient,
) -> None:
    _, record = await factories.patient()
    insurer = Caller(client, token=await insurer_token())
    day = (dt.date.today() - dt.timedelta(days=3)).isoformat()
    items = [
        medication_item(record.ins, 1, title='Doliprane "1000" mg \\ sachet', date=day),
        medication_item(record.ins, 2, title="  Éphédrine — ampoule ✓ 💊 ",
                        details={"dose": "½ cp\tmatin\nsoir", "quantity": 3, "atc": "R03CA02",
                                 "prescriber": "Dr Ñúñez </script>"}),
        medication_item(record.ins, 3, details=None),
        {**medication_item(record.ins, 4), "section": "LAB_RESULTS", "code": "2345-7",
         "title": "Glycémie à jeun", "details": {"analyte": "Glucose", "value": "5.4",
                                                 "unit": "mmol/L", "abnormal": False}},
    ]
    first = (await insurer.gql(IMPORT, {"items": items})).ok()["importCareHistory"]
    assert first["created"] == 4
    for item in items:
        key = await ImportKey.get(record_id=record.id, external_id=item["externalId"])
        entry = await Entry.get(id=key.entry_id)  # type: ignore[attr-defined]
        old = _hash_as_first_released(item, entry.details)
        assert key.content_hash == old, item["externalId"]
    again = (await insurer.gql(IMPORT, {"items": items})).ok()["importCareHistory"]
    assert (again["unchanged"], again["corrected"], again["created"]) == (4, 0, 0)
