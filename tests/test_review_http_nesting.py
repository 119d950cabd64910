"""Values nested deeper than Python's stack goes: the caller's error, never an `INTERNAL`
error logged as a bug, and nothing written, on both paths of the endpoint (orjson reads
1,024 levels; Python's recursion stops near 1,000). An import's item whose details nest
deeper than any section's fields is rejected alone (`MAX_DETAILS_DEPTH`)."""

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
        answer = response.json()
        assert "errors" not in answer, answer["errors"]
        rejected = answer["data"]["importCareHistory"]["rejected"]
        assert [(r["index"], r["code"]) for r in rejected] == [(0, "BAD_USER_INPUT")]
        assert await Entry.filter(record_id=record.id).count() == 0
    plain = medication_item(record.ins, 2)
    response = await client.post("/graphql", json={"query": IMPORT, "variables": {"items": [plain]}},
                                 headers=headers)
    assert response.json()["data"]["importCareHistory"]["created"] == 1


async def test_an_item_nested_too_deep_is_rejected_alone(client: httpx.AsyncClient) -> None:
    """Within what the parsers read, an item whose details nest deeper than any section's
    fields is rejected with its index; the batch's other items are imported."""
    _, record = await factories.patient()
    headers = {"origin": ORIGIN, "content-type": "application/json",
               "authorization": f"Bearer {await insurer_token()}"}
    deep = medication_item(record.ins, 1, details={"atc": "N02BE01", "dose": "@@"})
    plain = medication_item(record.ins, 2)
    body = json.dumps({"query": IMPORT, "variables": {"items": [deep, plain]}})
    body = body.replace('"@@"', '{"a":' * 500 + "1" + "}" * 500)
    response = await client.post("/graphql", content=body, headers=headers)
    result = response.json()["data"]["importCareHistory"]
    assert result["created"] == 1
    assert [(r["index"], r["code"]) for r in result["rejected"]] == [(0, "BAD_USER_INPUT")]
    assert "nested" in result["rejected"][0]["message"]
    assert await Entry.filter(record_id=record.id).count() == 1
