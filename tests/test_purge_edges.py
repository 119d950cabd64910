"""`dmp purge` at the edges of the lifecycle: never before the patient's time to reopen is over,
never a record the patient took back while the run was going, and two runs at once."""

from __future__ import annotations

import datetime as dt
import os
import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest

from backend import clock
from backend import purge as purge_module
from backend.domain.enums import RecordStatus, Section
from backend.models import Entry, PurgedRecord, Record
from backend.purge import purge
from tests import factories
from tests.conftest import Caller, session_for
from tests.lifecycle_rows import set_state

STATUS = "{ myRecordStatus { status reopenUntil } }"
REOPEN = "mutation { reopenMyRecord { status } }"


def _move_clock_to(moment: dt.datetime) -> None:
    clock.shift(moment - clock.now())


async def test_a_closed_record_is_not_purged_while_its_owner_may_still_reopen_it(
    client: httpx.AsyncClient,
) -> None:
    """Ten calendar years are 3,652 days when they hold two 29 Februaries: the record stays
    until `reopenUntil`, the date the patient is given, and goes the run after."""
    # 1 June 2017 to 1 June 2027: 2020 and 2024 only, 3,652 days.
    _move_clock_to(dt.datetime(2027, 6, 1, 12, 0, tzinfo=dt.UTC))
    owner, record = await factories.patient()
    await factories.entry(record, Section.VACCINATIONS, title="ROR")
    closed_at = clock.now() - dt.timedelta(days=3652, hours=1)
    await set_state(record.id, RecordStatus.CLOSED, closed_at)
    caller = Caller(client, session=await session_for(owner))
    reopen_until = dt.datetime.fromisoformat((await caller.gql(STATUS)).ok()["myRecordStatus"]["reopenUntil"])
    assert reopen_until > clock.now()  # the patient is told they may still reopen it

    report = await purge()
    assert report.closed == 0
    assert await Record.filter(id=record.id, status=RecordStatus.CLOSED).exists()
    assert await Entry.filter(record_id=record.id).count() == 1

    # Past `reopenUntil` the record can no longer be reopened, and the purge takes it.
    _move_clock_to(reopen_until + dt.timedelta(minutes=1))
    caller = Caller(client, session=await session_for(owner))
    assert (await caller.gql(REOPEN)).codes == ["FORBIDDEN"]
    assert (await purge()).closed == 1
    assert not await Record.filter(id=record.id).exists()


async def test_a_record_reopened_while_the_purge_runs_is_kept(monkeypatch: pytest.MonkeyPatch) -> None:
    """The run lists the due records first, then purges them one by one: a record its owner
    reopened (or whose deletion they cancelled) in between is no longer due and stays."""
    records = []
    for _ in range(2):
        _, record = await factories.patient()
        await factories.entry(record, Section.VACCINATIONS, title="ROR")
        records.append(record)
    first, second = records
    await set_state(first.id, RecordStatus.DELETED, clock.now() - dt.timedelta(days=31))
    await set_state(second.id, RecordStatus.CLOSED, clock.now() - dt.timedelta(days=3660))
    original = purge_module.purge_record
    calls = 0

    async def reopened_meanwhile(record: Record, **kwargs: Any) -> Any:
        nonlocal calls
        calls += 1
        if calls == 1:  # the owner of the other record takes it back during the run
            other = second if record.id == first.id else first
            await Record.filter(id=other.id).update(
                status=RecordStatus.ACTIVE, closed_at=None, deletion_requested_at=None)
        return await original(record, **kwargs)

    monkeypatch.setattr(purge_module, "purge_record", reopened_meanwhile)
    report = await purge()
    assert report.closed + report.deleted == 1
    kept = await Record.filter(id__in=[first.id, second.id]).values_list("id", flat=True)
    (kept_id,) = kept
    assert await Record.filter(id=kept_id, status=RecordStatus.ACTIVE).exists()
    assert await Entry.filter(record_id=kept_id).count() == 1
    assert not await PurgedRecord.filter(record_id=kept_id).exists()
    assert report.record_ids == [r.id for r in records if r.id != kept_id]


async def test_two_purges_at_once_purge_each_record_once(monkeypatch: pytest.MonkeyPatch) -> None:
    """A run started while the last one still goes (a slow run and a daily timer): the record
    the other run purged first is skipped, and the run goes on with the others."""
    due = []
    for _ in range(2):
        _, record = await factories.patient()
        await factories.entry(record, Section.VACCINATIONS, title="ROR")
        await set_state(record.id, RecordStatus.DELETED, clock.now() - dt.timedelta(days=31))
        due.append(record)
    original = purge_module.purge_record
    other_run: list[purge_module.PurgeReport] = []

    async def other_run_first(record: Record, **kwargs: Any) -> Any:
        if not other_run:  # the other run, listed the same records, gets there first
            monkeypatch.setattr(purge_module, "purge_record", original)
            other_run.append(await purge())
            monkeypatch.setattr(purge_module, "purge_record", other_run_first)
        return await original(record, **kwargs)

    monkeypatch.setattr(purge_module, "purge_record", other_run_first)
    report = await purge()
    (other,) = other_run
    assert other.deleted == 2
    assert report.deleted == 0 and report.record_ids == []
    assert not await Record.filter(id__in=[r.id for r in due]).exists()
    assert await PurgedRecord.filter(record_id__in=[r.id for r in due]).count() == 2


async def test_the_sweep_goes_on_when_a_file_goes_while_it_looks(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """An upload in flight renames its temporary file, a deletion removes its file: one listed a
    moment before is gone when the sweep looks at its age, and the sweep goes on with the others."""
    from backend.files import storage
    from backend.purge import sweep_orphan_files

    orphan = tmp_path / str(uuid.uuid4())
    orphan.write_bytes(b"enc")
    old = (clock.now() - dt.timedelta(days=2)).timestamp()
    os.utime(orphan, (old, old))
    listed = [(tmp_path / f".{uuid.uuid4()}.0123456789abcdef.tmp", None), (orphan, uuid.UUID(orphan.name))]
    monkeypatch.setattr(storage, "files_on_disk", lambda: iter(listed))
    assert await sweep_orphan_files(clock.now()) == 1
    assert not orphan.exists()
