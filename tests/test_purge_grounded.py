"""`dmp purge` purges a record only when its own history shows what its row says: the row's
status and dates are columns whoever can write to the database can set, and the purge's seal
would then make `dmp audit verify --anchor` accept the record's disappearance."""

from __future__ import annotations

import datetime as dt
import json

import httpx

from backend import clock
from backend.audit.writer import Actor, PendingEvent, append
from backend.domain.enums import AccessAction, RecordStatus, Role
from backend.models import AccessEvent, PurgedRecord, Record
from backend.purge import ABANDONED_AFTER, purge
from tests import factories
from tests.lifecycle_rows import set_state
from tests.server import run_dmp


async def test_a_row_altered_to_look_deleted_is_not_purged(client: httpx.AsyncClient) -> None:
    _, record = await factories.patient()
    events = await AccessEvent.filter(record_id=record.id).count()
    # Set by hand: no deletion request in the history.
    await Record.filter(id=record.id).update(
        status=RecordStatus.DELETED, deletion_requested_at=clock.now() - dt.timedelta(days=40))
    done = run_dmp("purge")
    assert done.returncode == 1
    assert "1 record(s) could not be purged" in done.stderr
    logged = [json.loads(line) for line in done.stderr.splitlines() if line.startswith("{")]
    assert any(str(record.id) in line["msg"] and "history does not show" in line["msg"] for line in logged)
    assert await Record.filter(id=record.id).exists()
    assert not await PurgedRecord.filter(record_id=record.id).exists()
    assert await AccessEvent.filter(record_id=record.id).count() == events


async def test_a_row_altered_to_look_closed_ten_years_ago_is_not_purged() -> None:
    _, record = await factories.patient()
    # Closed for real a month ago, its row's date moved back ten years by hand.
    await set_state(record.id, RecordStatus.CLOSED, clock.now() - dt.timedelta(days=30))
    await Record.filter(id=record.id).update(closed_at=clock.now() - dt.timedelta(days=3700))
    report = await purge()
    assert report.failed_ids == [record.id] and report.closed == 0
    assert await Record.filter(id=record.id).exists()


async def test_an_activated_record_altered_to_look_abandoned_is_not_purged() -> None:
    _, record = await factories.patient()
    # Its activation, as createRecord and `dmp create-account` write it.
    await append(Actor(None, "Exploitant du DMP", None, Role.SUPPORT.value),
                 PendingEvent(record.id, AccessAction.RECORD_ACTIVATED))
    await Record.filter(id=record.id).update(
        status=RecordStatus.PENDING, owner_id=None, created_at=clock.now() - ABANDONED_AFTER * 2)
    report = await purge()
    assert report.failed_ids == [record.id] and report.abandoned == 0
    assert await Record.filter(id=record.id).exists()


async def test_a_deletion_the_history_shows_is_purged() -> None:
    _, record = await factories.patient()
    await set_state(record.id, RecordStatus.DELETED, clock.now() - dt.timedelta(days=31))
    report = await purge()
    assert report.deleted == 1 and report.failed_ids == []
    assert not await Record.filter(id=record.id).exists()
