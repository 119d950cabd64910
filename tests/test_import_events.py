"""importCareHistory's access events: written with the entries, in one transaction, chained."""

from __future__ import annotations

import asyncio

import httpx

from backend.config import settings
from backend.models import AccessEvent, ActivationCode, Entry, ImportKey, OutboxMessage, Record
from tests import factories
from tests.audit_faults import access_event_writes_fail
from tests.care_items import IMPORT, INSURER, insurer_token, medication_item
from tests.conftest import Caller
from tests.history_helpers import READ, setup
from tests.server import run_dmp


async def test_an_import_whose_events_cannot_be_written_leaves_nothing(
    client: httpx.AsyncClient,
) -> None:
    _, record = await factories.patient()
    insurer = Caller(client, token=await insurer_token())
    new_ins = factories.new_ins()
    items = [medication_item(record.ins, 1),
             medication_item(new_ins, 2, contactEmail="jeanne@example.org")]
    async with access_event_writes_fail():
        result = await insurer.gql(IMPORT, {"items": items})
    assert result.codes == ["INTERNAL"] and result.data is None
    # No entry, key, opened record, activation code or mail without its event.
    assert await Entry.all().count() == 0
    assert await ImportKey.all().count() == 0
    assert await Record.filter(ins=new_ins).count() == 0
    assert await ActivationCode.all().count() == 0
    assert await OutboxMessage.all().count() == 0
    assert (await Record.get(id=record.id)).event_seq == 0
    # The fault gone, the same batch goes through whole.
    payload = (await insurer.gql(IMPORT, {"items": items})).ok()["importCareHistory"]
    assert (payload["created"], payload["unchanged"]) == (2, 0)
    assert await AccessEvent.filter(action="ENTRIES_IMPORTED").count() == 2


async def test_events_of_many_records_continue_each_chain(client: httpx.AsyncClient) -> None:
    s = await setup(client)
    (await s["as_pro"].gql(READ, {"ins": s["record"].ins})).ok()  # the record's chain has a head
    others = [(await factories.patient())[1] for _ in range(4)]
    insurer = Caller(client, token=await insurer_token())
    records = [s["record"], *others]
    for batch in range(3):
        items = [medication_item(r.ins, 10 * batch + n) for r in records for n in range(3)]
        items.append(medication_item(factories.new_ins(), 100 + batch))
        (await insurer.gql(IMPORT, {"items": items})).ok()
    (await s["as_pro"].gql(READ, {"ins": s["record"].ins})).ok()  # and a reader after the imports

    for record in others:
        rows = await AccessEvent.filter(record_id=record.id).order_by("seq")
        assert [(e.seq, e.action, e.mode, e.sections) for e in rows] == [
            (n, "ENTRIES_IMPORTED", "INSURER", ["MEDICATIONS"]) for n in (1, 2, 3)
        ]
        assert (await Record.get(id=record.id)).event_seq == 3
    mixed = await AccessEvent.filter(record_id=s["record"].id).order_by("seq")
    assert [e.action for e in mixed] == ["RECORD_READ", *["ENTRIES_IMPORTED"] * 3, "RECORD_READ"]
    assert len({e.mac for e in await AccessEvent.all()}) == await AccessEvent.all().count()
    done = run_dmp("audit", "verify")
    assert done.returncode == 0, done.stdout + done.stderr
    assert settings().audit_key  # the chain was keyed, not left empty


async def test_a_reimport_that_changes_nothing_writes_no_event(client: httpx.AsyncClient) -> None:
    _, record = await factories.patient()
    insurer = Caller(client, token=await insurer_token())
    items = [medication_item(record.ins, n) for n in range(3)]
    (await insurer.gql(IMPORT, {"items": items})).ok()
    changed = [*items[:2], medication_item(record.ins, 2, title="Doliprane 500 mg")]
    payload = (await insurer.gql(IMPORT, {"items": changed})).ok()["importCareHistory"]
    assert (payload["unchanged"], payload["corrected"]) == (2, 1)
    current = await Entry.get(record_id=record.id, external_id="MED-2", superseded=False)
    assert current.title == "Doliprane 500 mg" and current.masked is False
    (await insurer.gql(IMPORT, {"items": changed})).ok()
    assert [e.seq for e in await AccessEvent.filter(record_id=record.id).order_by("seq")] == [1, 2]
    done = run_dmp("audit", "verify")
    assert done.returncode == 0, done.stdout + done.stderr


async def test_imports_and_reads_of_the_same_records_at_once_leave_valid_chains(
    client: httpx.AsyncClient,
) -> None:
    s = await setup(client)
    others = [(await factories.patient())[1] for _ in range(3)]
    records = [s["record"], *others]
    insurer = Caller(client, token=await insurer_token())
    batches = [[medication_item(r.ins, 100 * b + n) for r in reversed(records) for n in range(20)]
               for b in range(3)]
    results = await asyncio.gather(
        *(insurer.gql(IMPORT, {"items": batch}) for batch in batches),
        *(s["as_pro"].gql(READ, {"ins": s["record"].ins}) for _ in range(4)),
    )
    for result in results:
        result.ok()
    for record in records:
        count = await AccessEvent.filter(record_id=record.id).count()
        assert (await Record.get(id=record.id)).event_seq == count
        assert await Entry.filter(record_id=record.id, organization=INSURER).count() == 60
    assert await AccessEvent.filter(record_id=s["record"].id, action="RECORD_READ").count() == 4
    assert await AccessEvent.filter(action="ENTRIES_IMPORTED").count() == 3 * len(records)
    done = run_dmp("audit", "verify")
    assert done.returncode == 0, done.stdout + done.stderr
