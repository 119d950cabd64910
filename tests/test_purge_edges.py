"""`dmp purge` at the edges of the lifecycle: never before the patient's time to reopen is over."""

from __future__ import annotations

import datetime as dt

import httpx

from backend import clock
from backend.domain.enums import RecordStatus, Section
from backend.models import Entry, Record
from backend.purge import purge
from tests import factories
from tests.conftest import Caller, session_for

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
    await Record.filter(id=record.id).update(status=RecordStatus.CLOSED, closed_at=closed_at)
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
