"""An import and the closing of a record it writes to take turns (DESIGN §2: imports into a
closed record are refused per item), so the history never shows entries imported after the
record was closed."""

from __future__ import annotations

import asyncio

import asyncpg  # type: ignore[import-untyped]
import httpx
import pytest

from backend.domain.enums import RecordStatus
from backend.models import AccessEvent, Entry, ImportKey, Record
from tests import factories
from tests.care_items import IMPORT, insurer_token, medication_item
from tests.conftest import DB_URL, Caller, session_for
from tests.lock_waits import waiting

CLOSE = "mutation { closeMyRecord { status } }"


@pytest.mark.postgres
async def test_an_import_queued_behind_the_closing_of_the_record_is_refused(
    client: httpx.AsyncClient,
) -> None:
    """The close is first in line for the record's row, the import second: the import must
    read the record as the close left it (CLOSED) and refuse its items, not write entries
    it checked against the status from before the close."""
    account, record = await factories.patient()
    owner = Caller(client, session=await session_for(account))
    insurer = Caller(client, token=await insurer_token())
    items = [medication_item(record.ins, n) for n in range(50)]
    url = DB_URL.replace("asyncpg://", "postgres://")
    holder, watch = await asyncpg.connect(url), await asyncpg.connect(url)
    try:
        hold = holder.transaction()
        await hold.start()
        # Another writer of the record (say, a practitioner's event) holds its row a moment.
        await holder.execute('SELECT 1 FROM "record" WHERE "id" = $1 FOR UPDATE', record.id)
        closing = asyncio.create_task(owner.gql(CLOSE))
        await waiting(watch, 1)
        importing = asyncio.create_task(insurer.gql(IMPORT, {"items": items}))
        await waiting(watch, 2)
        await hold.rollback()
        closed, imported = await closing, await importing
    finally:
        await holder.close()
        await watch.close()

    assert closed.ok()["closeMyRecord"]["status"] == RecordStatus.CLOSED.value
    payload = imported.ok()["importCareHistory"]
    assert (payload["accepted"], len(payload["rejected"])) == (0, 50)
    assert {r["code"] for r in payload["rejected"]} == {"FORBIDDEN"}
    assert await Entry.filter(record_id=record.id).count() == 0
    assert await ImportKey.filter(record_id=record.id).count() == 0
    actions = await AccessEvent.filter(record_id=record.id).order_by("seq").values_list(
        "action", flat=True)
    # The refused batch is one denied attempt by the insurer, after the close (DESIGN §4).
    assert "ENTRIES_IMPORTED" not in actions and actions[-2:] == ["RECORD_CLOSED", "ACCESS_DENIED"]
    assert (await Record.get(id=record.id)).status == RecordStatus.CLOSED


async def test_imports_racing_the_closing_never_write_after_it(client: httpx.AsyncClient) -> None:
    """Whichever comes first, on either database: entries imported only if their import
    committed before the close, so no ENTRIES_IMPORTED event follows RECORD_CLOSED."""
    insurer = Caller(client, token=await insurer_token())
    for run in range(4):
        account, record = await factories.patient()
        owner = Caller(client, session=await session_for(account))
        items = [medication_item(record.ins, n) for n in range(300)]
        importing = asyncio.create_task(insurer.gql(IMPORT, {"items": items}))
        await asyncio.sleep(0.005 * run)
        closed = await owner.gql(CLOSE)
        payload = (await importing).ok()["importCareHistory"]
        assert closed.ok()["closeMyRecord"]["status"] == RecordStatus.CLOSED.value
        actions = await AccessEvent.filter(record_id=record.id).order_by("seq").values_list(
            "action", flat=True)
        closing = actions.index("RECORD_CLOSED")
        entries = await Entry.filter(record_id=record.id).count()
        if "ENTRIES_IMPORTED" in actions:
            assert actions[closing:] == ["RECORD_CLOSED"], actions
            assert (payload["created"], entries) == (300, 300)
        else:
            # Refused after the close: one denied attempt, the import's last event.
            assert actions[closing:] == ["RECORD_CLOSED", "ACCESS_DENIED"], actions
            assert (payload["created"], entries) == (0, 0)
            assert {r["code"] for r in payload["rejected"]} == {"FORBIDDEN"}


async def test_imports_and_closes_sharing_records_all_complete(client: httpx.AsyncClient) -> None:
    """Imports lock their records (in one order), then their keys; a close locks its record:
    however they interleave, none waits on another in a cycle (a deadlock would surface as an
    INTERNAL error) and each record's history ends with its close."""
    patients = [await factories.patient() for _ in range(4)]
    insurer = Caller(client, token=await insurer_token())
    batches = [
        [medication_item(record.ins, 100 * n + k) for k in range(20)
         for _, record in (patients if n % 2 else patients[::-1])]
        for n in range(6)
    ]
    closes = [Caller(client, session=await session_for(account)).gql(CLOSE)
              for account, _ in patients[:2]]
    answers = await asyncio.gather(*(insurer.gql(IMPORT, {"items": b}) for b in batches), *closes)
    for answer in answers:
        answer.ok()
    for n, (_, record) in enumerate(patients):
        actions = await AccessEvent.filter(record_id=record.id).order_by("seq").values_list(
            "action", flat=True)
        if n < 2:  # after the close, only the denied attempts of the batches it refused
            closing = actions.index("RECORD_CLOSED")
            assert set(actions[closing + 1:]) <= {"ACCESS_DENIED"}, actions
        imports = actions.count("ENTRIES_IMPORTED")
        assert await Entry.filter(record_id=record.id).count() == 20 * (imports if n < 2 else 6)
