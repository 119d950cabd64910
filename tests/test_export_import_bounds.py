"""One export or one import per request, and a patient's exports per hour (found by a probe:
fifteen aliased `exportMyRecord` fields made a 1.4 GB answer in one request, the process's one
export at a time queued behind them; seven aliased `importCareHistory` imported 35,000 items in
a request whose documented bound is 5,000; a patient exporting in a loop slowed everyone)."""

from __future__ import annotations

import datetime as dt

import httpx

from backend import clock
from backend.domain.enums import AccessAction
from backend.models import AccessEvent, Entry, Record
from backend.schema.documents import EXPORTS_PER_HOUR
from tests import factories
from tests.care_items import insurer_token, medication_item
from tests.conftest import Caller, session_for

ONE = "exportMyRecord(format: JSON) { fileName }"


async def _exports(record: Record) -> int:
    return await AccessEvent.filter(record_id=record.id, action=AccessAction.RECORD_EXPORTED.value).count()


async def test_an_export_is_asked_once_per_request_aliases_and_fragments_included(
    client: httpx.AsyncClient,
) -> None:
    owner, record = await factories.patient()
    caller = Caller(client, session=await session_for(owner))
    for document in (
        f"mutation {{ a: {ONE} b: {ONE} }}",
        f"mutation {{ a: {ONE} ... on Mutation {{ b: {ONE} }} }}",
        f"mutation {{ a: {ONE} ...Again }} fragment Again on Mutation {{ b: {ONE} }}",
        f"mutation {{ a: {ONE} b: exportMyRecord(format: FHIR) {{ content }} }}",
    ):
        refused = await caller.gql(document)
        assert refused.codes == ["BAD_USER_INPUT"] and refused.data is None, document
        assert "exportMyRecord may be asked once per request" in refused.errors[0]["message"]
    assert await _exports(record) == 0
    # One is answered, written once.
    done = (await caller.gql(f"mutation {{ {ONE} }}")).ok()
    assert done["exportMyRecord"]["fileName"].endswith(".json")
    assert await _exports(record) == 1


async def test_an_import_is_asked_once_per_request(client: httpx.AsyncClient) -> None:
    _, record = await factories.patient()
    insurer = Caller(client, token=await insurer_token())
    document = """mutation ($a: [CareItemInput!]!, $b: [CareItemInput!]!) {
      a: importCareHistory(items: $a) { accepted } b: importCareHistory(items: $b) { accepted } }"""
    variables = {"a": [medication_item(record.ins, 1)], "b": [medication_item(record.ins, 2)]}
    refused = await insurer.gql(document, variables)
    assert refused.codes == ["BAD_USER_INPUT"] and refused.data is None
    assert "importCareHistory may be asked once per request" in refused.errors[0]["message"]
    assert await Entry.filter(record_id=record.id).count() == 0
    imported = AccessAction.ENTRIES_IMPORTED.value
    assert not await AccessEvent.filter(record_id=record.id, action=imported).exists()


async def test_a_patients_exports_are_bounded_per_hour(client: httpx.AsyncClient) -> None:
    owner, record = await factories.patient()
    caller = Caller(client, session=await session_for(owner))
    for _ in range(EXPORTS_PER_HOUR):
        (await caller.gql(f"mutation {{ {ONE} }}")).ok()
    refused = await caller.gql(f"mutation {{ {ONE} }}")
    assert refused.codes == ["RATE_LIMITED"] and refused.data is None
    assert await _exports(record) == EXPORTS_PER_HOUR  # nothing read, nothing written
    # Another patient has their own count; the next hour, this one's exports are answered again.
    other, _ = await factories.patient()
    (await Caller(client, session=await session_for(other)).gql(f"mutation {{ {ONE} }}")).ok()
    clock.shift(dt.timedelta(hours=1))
    caller = Caller(client, session=await session_for(owner))
    (await caller.gql(f"mutation {{ {ONE} }}")).ok()
    assert await _exports(record) == EXPORTS_PER_HOUR + 1
