"""A record put in a state by its row, with the event the lifecycle writes for it, at that
moment: `dmp purge` purges only what the record's own history shows (a closing, a deletion
request), so a test that sets the row alone would see its record kept, as an altered row is."""

from __future__ import annotations

import datetime as dt
import uuid

from backend import clock
from backend.audit.writer import Actor, PendingEvent, append
from backend.domain.enums import AccessAction, RecordStatus, Role
from backend.models import Record

ACTION = {
    RecordStatus.CLOSED: AccessAction.RECORD_CLOSED,
    RecordStatus.DELETED: AccessAction.DELETION_REQUESTED,
}


async def set_state(record_id: uuid.UUID, status: RecordStatus, at: dt.datetime) -> None:
    """The record CLOSED (`closed_at`) or DELETED (`deletion_requested_at`) since `at`, and its
    history's event for it written at `at`, as by its owner."""
    dates = {"closed_at": at} if status == RecordStatus.CLOSED else {"deletion_requested_at": at}
    await Record.filter(id=record_id).update(status=status, **dates)
    shift = at - clock.now()
    clock.shift(shift)
    try:
        owner = Actor(None, "Patient", None, Role.PATIENT.value)
        await append(owner, PendingEvent(record_id, ACTION[status]))
    finally:
        clock.shift(-shift)
