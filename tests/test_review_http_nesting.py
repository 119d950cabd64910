"""Values nested deeper than Python's stack goes: a request error of the caller's making
(`BAD_USER_INPUT`), never an `INTERNAL` error logged as a bug, and nothing written, on both
paths of the endpoint (orjson reads 1,024 levels; Python's recursion stops near 1,000)."""

from __future__ import annotations

import json

import httpx

from backend.models import Entry
from tests import factories
from tests.care_items import IMPORT, insurer_token, medication_item
from tests.conftest import ORIGIN


async def test_details_nested_past_the_stack_are_the_callers_error(client: httpx.AsyncClient) -> None:
    _, record = await factories.patient()
    headers = {"origin": ORIGIN, "content-type": "application/json",
               "authorization": f"Bearer {await insurer_token()}"}
    deep = medication_item(record.ins, 1, details={"atc": "N02BE01", "dose": "@@"})
    body = json.dumps({"query": IMPORT, "variables": {"items": [deep]}})
    body = body.replace('"@@"', '{"a":' * 1000 + "1" + "}" * 1000)
    for _ in range(2):  # strawberry's pipeline, then the prepared path
        response = await client.post("/graphql", content=body, headers=headers)
        errors = response.json()["errors"]
        assert [e["extensions"]["code"] for e in errors] == ["BAD_USER_INPUT"], errors
        assert await Entry.filter(record_id=record.id).count() == 0
    plain = medication_item(record.ins, 2)
    response = await client.post("/graphql", json={"query": IMPORT, "variables": {"items": [plain]}},
                                 headers=headers)
    assert response.json()["data"]["importCareHistory"]["created"] == 1
