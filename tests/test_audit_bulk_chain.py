"""The bulk writer (an insurer import's events): a thousand records' chains in a few
statements, continuing what the per-request writer wrote before, beside it and after it."""

from __future__ import annotations

import asyncio
import datetime as dt
import uuid

import httpx
import pytest
from tortoise.transactions import in_transaction

from backend import config
from backend.audit import bulk, writer
from backend.audit import verify as verifying
from backend.domain.enums import AccessAction, AccessMode, RecordStatus, Role, Section
from backend.models import AccessEvent, Record
from tests import factories

INSURER = writer.Actor(None, "Assurance maladie", None, Role.INSURER.value)
PRO = writer.Actor(uuid.uuid4(), "Dr Pro", "medecin", Role.PRACTITIONER.value)
N = 1000


def imported(record_id: uuid.UUID, *sections: Section) -> writer.PendingEvent:
    event = writer.PendingEvent(record_id, AccessAction.ENTRIES_IMPORTED)
    event.add(AccessMode.INSURER, set(sections))
    return event


async def test_a_thousand_chains_written_in_bulk_beside_single_writes_verify(
    client: httpx.AsyncClient,
) -> None:
    records = [
        Record(id=uuid.uuid4(), ins=factories.new_ins(), first_name="A", last_name="B",
               birth_date=dt.date(1980, 1, 1), status=RecordStatus.ACTIVE)
        for _ in range(N)
    ]
    await Record.bulk_create(records)
    ids = [record.id for record in records]
    # A third of them have a chain already.
    for record_id in ids[::3]:
        await writer.append(INSURER, imported(record_id, Section.MEDICATIONS))

    async def one_import(sections: tuple[Section, ...]) -> int:
        async with in_transaction() as conn:
            return await bulk.append_many(conn, INSURER, [imported(r, *sections) for r in reversed(ids)])

    async def single_writes() -> None:
        for record_id in ids[:40:2]:
            await writer.append(INSURER, imported(record_id, Section.PROCEDURES))

    written = await asyncio.gather(
        one_import((Section.MEDICATIONS, Section.LAB_RESULTS)), single_writes(),
        one_import((Section.IMAGING,)),
    )
    assert written[0] == written[2] == N

    report = await verifying.verify(config.settings().audit_key)
    expected = N * 2 + len(ids[::3]) + len(ids[:40:2])
    assert report.ok, report.problems[:5]
    assert (report.records, report.events) == (N, expected)
    heads = dict(await Record.filter(id__in=ids).values_list("id", "event_seq"))
    counts: dict[uuid.UUID, int] = {}
    for record_id in await AccessEvent.filter(record_id__in=ids).values_list("record_id", flat=True):
        key = uuid.UUID(str(record_id))
        counts[key] = counts.get(key, 0) + 1
    assert {uuid.UUID(str(k)): v for k, v in heads.items()} == counts


async def test_the_bulk_writer_refuses_a_practitioner_and_a_record_twice(client: httpx.AsyncClient) -> None:
    _, record = await factories.patient()
    before = await AccessEvent.filter(record_id=record.id).count()
    async with in_transaction() as conn:
        with pytest.raises(ValueError, match="first-access notice"):
            await bulk.append_many(conn, PRO, [imported(record.id)])
        with pytest.raises(ValueError, match="one event per record"):
            await bulk.append_many(conn, INSURER, [imported(record.id), imported(record.id)])
        with pytest.raises(LookupError):
            await bulk.append_many(conn, INSURER, [imported(uuid.uuid4())])
    assert await AccessEvent.filter(record_id=record.id).count() == before
    assert (await Record.get(id=record.id)).event_seq == before
