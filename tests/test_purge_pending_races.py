"""The purge of an abandoned pending record and a write that gives it something to hold take
turns: an import or a new activation code committed while the purge waited for the record's
row keeps the record (DESIGN §2: only a record holding nothing is abandoned). In READ
COMMITTED a statement that waited for a row lock re-checks that row's columns only, not its
subqueries: "holds nothing" is checked once the lock is held, in a statement of its own."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any

import asyncpg  # type: ignore[import-untyped]
import httpx
import pytest

from backend import clock
from backend.domain.enums import RecordStatus
from backend.models import ActivationCode, Entry, PurgedRecord, Record
from backend.purge import PurgeReport, purge
from tests import factories
from tests.care_items import IMPORT, insurer_token, medication_item
from tests.conftest import DB_URL, Caller, session_for
from tests.lock_waits import waiting
from tests.test_auth_signup import OPEN

IDENT = {"firstName": "Alice", "lastName": "Martin", "birthDate": "1985-06-12"}


async def _doctor(client: httpx.AsyncClient) -> Caller:
    account, _ = await factories.practitioner()
    return Caller(client, session=await session_for(account))


async def _abandoned(client: httpx.AsyncClient) -> Record:
    ins = factories.new_ins()
    (await (await _doctor(client)).gql(OPEN, {"input": {"ins": ins, **IDENT}})).ok()
    clock.shift(timedelta(days=46))  # nobody activated it, its code expired: abandoned
    return await Record.get(ins=ins)


async def _queued(record: Record, write: Callable[[], Awaitable[Any]]) -> tuple[Any, PurgeReport]:
    """Another writer holds the record's row; `write` queues for it first, the purge (which
    listed the record as abandoned) second; the row is let go."""
    url = DB_URL.replace("asyncpg://", "postgres://")
    holder, watch = await asyncpg.connect(url), await asyncpg.connect(url)
    try:
        hold = holder.transaction()
        await hold.start()
        await holder.execute('SELECT 1 FROM "record" WHERE "id" = $1 FOR UPDATE', record.id)
        writing = asyncio.create_task(write())
        await waiting(watch, 1)
        purging = asyncio.create_task(purge())
        await waiting(watch, 2)
        await hold.rollback()
        return await writing, await purging
    finally:
        await holder.close()
        await watch.close()


@pytest.mark.postgres
async def test_an_import_committed_while_the_purge_waits_keeps_the_record(client: httpx.AsyncClient) -> None:
    record = await _abandoned(client)
    insurer = Caller(client, token=await insurer_token())

    async def do_import() -> Any:
        return (await insurer.gql(IMPORT, {"items": [medication_item(record.ins, 1)]})).ok()

    imported, report = await _queued(record, do_import)

    assert imported["importCareHistory"]["created"] == 1
    assert report.abandoned == 0 and report.record_ids == [] and report.failed_ids == []
    kept = await Record.get(id=record.id)
    assert kept.status == RecordStatus.PENDING
    assert await Entry.filter(record_id=record.id).count() == 1
    assert not await PurgedRecord.filter(record_id=record.id).exists()


@pytest.mark.postgres
async def test_a_code_handed_over_while_the_purge_waits_keeps_the_record(client: httpx.AsyncClient) -> None:
    record = await _abandoned(client)
    doctor = await _doctor(client)

    async def reopen() -> Any:
        return (await doctor.gql(OPEN, {"input": {"ins": record.ins, **IDENT}})).ok()

    opened, report = await _queued(record, reopen)

    assert opened["openRecordForPatient"]["activationCode"]
    assert report.abandoned == 0 and report.record_ids == [] and report.failed_ids == []
    assert await Record.filter(id=record.id, status=RecordStatus.PENDING).exists()
    assert await ActivationCode.filter(record_id=record.id, expires_at__gt=clock.now()).count() == 1
    assert not await PurgedRecord.filter(record_id=record.id).exists()


@pytest.mark.postgres
async def test_a_record_still_abandoned_once_its_row_is_let_go_is_purged(client: httpx.AsyncClient) -> None:
    """The same queue with a writer that gives it nothing (a rolled-back write): purged."""
    record = await _abandoned(client)

    async def nothing() -> None:
        url = DB_URL.replace("asyncpg://", "postgres://")
        conn = await asyncpg.connect(url)
        try:
            async with conn.transaction():
                await conn.execute('SELECT 1 FROM "record" WHERE "id" = $1 FOR UPDATE', record.id)
        finally:
            await conn.close()

    _, report = await _queued(record, nothing)

    assert report.abandoned == 1 and report.record_ids == [record.id]
    assert not await Record.filter(id=record.id).exists()
    assert await PurgedRecord.filter(record_id=record.id).exists()
