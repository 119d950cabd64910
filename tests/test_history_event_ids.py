"""The access history's event ids are opaque and the record's own (DESIGN §4): derived from the
record and the event's number in its history (`seq`), not the event's row id, which counts every
access the service records across all records. A patient reading their history learns nothing of
the service's activity, nor of another patient's, from them; the same event has the same id in
myAccessHistory, the JSON export and the FHIR export, across requests and after a rekey."""

from __future__ import annotations

import dataclasses
import json
import secrets
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from backend import config, sql
from backend.models import AccessEvent, Record
from backend.resolvers import fhir
from tests.conftest import Caller
from tests.history_helpers import READ, setup
from tests.server import run_dmp
from tests.test_authz_reading import count_queries

HISTORY = """query($after: String) {
  myAccessHistory(first: 100, after: $after) {
    pageInfo { hasNextPage endCursor }
    edges { node { id seq action } }
  }
}"""
WITHOUT_ID = "{ myAccessHistory(first: 50) { edges { node { seq action } } } }"
WITH_ID = "{ myAccessHistory(first: 50) { edges { node { id seq action } } } }"
EXPORT = "mutation ($format: ExportFormat!) { exportMyRecord(format: $format) { content } }"


async def ids_by_seq(caller: Caller) -> dict[int, str]:
    """Every event's id as myAccessHistory gives it, by its number."""
    ids: dict[int, str] = {}
    after = None
    while True:
        page = (await caller.gql(HISTORY, {"after": after})).ok()["myAccessHistory"]
        ids |= {edge["node"]["seq"]: edge["node"]["id"] for edge in page["edges"]}
        if not page["pageInfo"]["hasNextPage"]:
            return ids
        after = page["pageInfo"]["endCursor"]


async def exported(caller: Caller, fmt: str) -> Any:
    return json.loads((await caller.gql(EXPORT, {"format": fmt})).ok()["exportMyRecord"]["content"])


async def read(s: dict[str, Any], times: int = 1) -> None:
    for _ in range(times):
        (await s["as_pro"].gql(READ, {"ins": s["record"].ins})).ok()


async def row_ids(record: Record) -> set[str]:
    return {str(i) for i in await AccessEvent.filter(record_id=record.id).values_list("id", flat=True)}


async def test_a_records_ids_say_nothing_of_the_accesses_to_other_records(client: httpx.AsyncClient) -> None:
    a, b = await setup(client), await setup(client)
    await read(a)
    await read(a)  # two of A's events with nothing in between
    await read(b, 4)
    await read(a)  # and one after four of B's
    mine = await ids_by_seq(a["as_patient"])
    theirs = await ids_by_seq(b["as_patient"])
    assert sorted(mine) == [1, 2, 3] and sorted(theirs) == [1, 2, 3, 4]
    # Not the rows' ids, nor numbers that count.
    assert not set(mine.values()) & await row_ids(a["record"])
    assert not any(i.isdigit() for i in [*mine.values(), *theirs.values()])

    # The same events, their rows numbered as if the service had recorded a thousand accesses
    # to other records before each (the rows' ids are all that other records' accesses move;
    # the chain does not cover them): A's ids are the same.
    await sql.execute(
        'UPDATE "access_event" SET "id" = "id" + 1000 * "seq" WHERE "record_id" = $1', [a["record"].id]
    )
    assert await ids_by_seq(a["as_patient"]) == mine
    # B's are theirs alone, whatever A's rows became.
    assert await ids_by_seq(b["as_patient"]) == theirs


async def test_ids_are_unique_across_records(client: httpx.AsyncClient) -> None:
    worlds = [await setup(client) for _ in range(3)]
    for n, s in enumerate(worlds):
        await read(s, n + 2)
    every = [await ids_by_seq(s["as_patient"]) for s in worlds]
    ids = [i for one in every for i in one.values()]
    assert len(ids) == len(set(ids)) == 2 + 3 + 4
    # The same number in two records is two ids.
    assert len({one[1] for one in every}) == len(worlds)


@pytest.fixture
def keys() -> Iterator[tuple[bytes, bytes]]:
    """The audit key the tests run with and a new one; the server's own restored after."""
    saved = config.settings()
    yield saved.audit_key, secrets.token_bytes(32)
    config.reset(saved)


async def test_the_same_event_has_the_same_id_in_the_history_and_both_exports(
    client: httpx.AsyncClient, keys: tuple[bytes, bytes]
) -> None:
    s = await setup(client)
    other = await setup(client)
    await read(s, 2)
    await read(other, 3)
    await read(s)
    shown = await ids_by_seq(s["as_patient"])
    assert await ids_by_seq(s["as_patient"]) == shown  # across requests

    data = await exported(s["as_patient"], "JSON")
    in_json = {e["seq"]: e["id"] for e in data["accessHistory"]}
    bundle = await exported(s["as_patient"], "FHIR")
    audits = [item for item in bundle["entry"] if item["resource"]["resourceType"] == "AuditEvent"]
    in_fhir: dict[int, str] = {}
    for item in audits:
        resource = item["resource"]
        extensions = {x["url"]: x for x in resource["extension"]}
        seq = extensions[fhir.SEQ_EXTENSION]["valueInteger"]
        # The AuditEvent's id, its extension and its entry's fullUrl name the same event id.
        assert extensions[fhir.EVENT_EXTENSION]["valueString"] == resource["id"]
        assert item["fullUrl"] == f"urn:uuid:{resource['id']}"
        in_fhir[seq] = resource["id"]
    # Each export holds the history as it was when built: the JSON export's own event is in
    # the FHIR export, and both exports' are in the history now, the earlier ids unchanged.
    now = await ids_by_seq(s["as_patient"])
    assert sorted(now) == [1, 2, 3, 4, 5] and {k: now[k] for k in shown} == shown
    assert in_json == {k: now[k] for k in (1, 2, 3)}
    assert in_fhir == {k: now[k] for k in (1, 2, 3, 4)}

    # A rekey seals the chains anew: the ids stay.
    old, new = keys
    done = run_dmp("audit", "rekey", DMP_AUDIT_KEY=new.hex(), DMP_PREVIOUS_AUDIT_KEY=old.hex())
    assert done.returncode == 0, done.stdout + done.stderr
    config.reset(dataclasses.replace(config.settings(), audit_key=new))
    assert await ids_by_seq(s["as_patient"]) == now
    again = await exported(s["as_patient"], "JSON")
    assert {e["seq"]: e["id"] for e in again["accessHistory"]} == now


async def test_the_ids_cost_no_statement(client: httpx.AsyncClient) -> None:
    s = await setup(client)
    await read(s, 3)
    with count_queries() as without:
        (await s["as_patient"].gql(WITHOUT_ID)).ok()
    with count_queries() as with_ids:
        edges = (await s["as_patient"].gql(WITH_ID)).ok()["myAccessHistory"]["edges"]
    assert len(edges) == 3 and with_ids == without
