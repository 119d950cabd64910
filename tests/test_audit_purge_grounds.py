"""Whether a record's own history grounds its purge (backend/audit/grounds.py): the record's
row says closed or deletion requested, which whoever writes to the database can set; only the
chain, MAC'd with the audit key, shows the patient asked for it, and when."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import httpx
from tortoise import Tortoise
from tortoise.transactions import in_transaction

from backend import clock, config
from backend.audit.grounds import purge_ungrounded
from backend.audit.writer import Actor, PendingEvent, append
from backend.domain.enums import AccessAction, RecordStatus, Role
from backend.models import AccessEvent, Record
from tests import factories
from tests.conftest import Caller, session_for

DELETE = "mutation { requestRecordDeletion { status } }"
CANCEL = "mutation { cancelRecordDeletion { status } }"
CLOSE = "mutation { closeMyRecord { status } }"
REOPEN = "mutation { reopenMyRecord { status } }"
LATER = dt.timedelta(seconds=5)
CUTOFFS = ("closed_before", "deletion_requested_before")


async def grounds(record_id: uuid.UUID, **cutoffs: Any) -> str | None:
    head = (await Record.get(id=record_id)).event_seq
    async with in_transaction() as conn:
        return await purge_ungrounded(config.settings().audit_key, record_id, head, conn, **cutoffs)


async def owner_of(client: httpx.AsyncClient) -> tuple[Record, Caller]:
    patient, record = await factories.patient()
    return record, Caller(client, session=await session_for(patient))


async def test_a_deletion_the_patient_asked_for_grounds_the_purge_once_old_enough(
    client: httpx.AsyncClient,
) -> None:
    record, owner = await owner_of(client)
    (await owner.gql(DELETE)).ok()
    now = clock.now()
    assert await grounds(record.id, deletion_requested_before=now + LATER) is None
    assert await grounds(record.id, deletion_requested_before=now - LATER) == (
        "its history does not show a closing or deletion request old enough")
    assert await grounds(record.id, closed_before=now + LATER) is not None  # not a closing

    (await owner.gql(CANCEL)).ok()  # cancelled: nothing grounds it any more
    assert await grounds(record.id, **dict.fromkeys(CUTOFFS, now + LATER)) is not None


async def test_a_closing_grounds_the_purge_until_the_record_is_reopened(client: httpx.AsyncClient) -> None:
    record, owner = await owner_of(client)
    (await owner.gql(CLOSE)).ok()
    now = clock.now()
    assert await grounds(record.id, closed_before=now + LATER) is None
    assert await grounds(record.id, closed_before=now - LATER) is not None
    (await owner.gql(REOPEN)).ok()
    assert await grounds(record.id, **dict.fromkeys(CUTOFFS, now + LATER)) is not None


async def test_a_deletion_asked_for_and_cancelled_while_closed_leaves_the_closing(
    client: httpx.AsyncClient,
) -> None:
    record, owner = await owner_of(client)
    (await owner.gql(CLOSE)).ok()
    closed = clock.now()
    (await owner.gql(DELETE)).ok()
    (await owner.gql(CANCEL)).ok()
    assert (await Record.get(id=record.id)).status == RecordStatus.CLOSED
    assert await grounds(record.id, closed_before=closed + LATER) is None
    assert await grounds(record.id, deletion_requested_before=clock.now() + LATER) is not None


async def test_a_row_set_by_hand_does_not_ground_the_purge(client: httpx.AsyncClient) -> None:
    """What the database's administrator can do: the row says deleted a year ago, or closed
    eleven years ago; the history shows no such request."""
    record, owner = await owner_of(client)
    long_ago = clock.now() - dt.timedelta(days=4000)
    await Record.filter(id=record.id).update(status=RecordStatus.DELETED, deletion_requested_at=long_ago,
                                             closed_at=long_ago)
    assert await grounds(record.id, **dict.fromkeys(CUTOFFS, clock.now())) == (
        "its history does not show a closing or deletion request old enough")


async def test_an_altered_history_does_not_ground_the_purge(client: httpx.AsyncClient) -> None:
    record, owner = await owner_of(client)
    (await owner.gql(DELETE)).ok()
    [*_, last] = await AccessEvent.filter(record_id=record.id).order_by("seq")
    await Tortoise.get_connection("default").execute_script(
        f"UPDATE access_event SET reason = 'autre' WHERE id = {last.id}")
    assert await grounds(record.id, deletion_requested_before=clock.now() + LATER) == (
        f"its history does not verify (altered event (its MAC does not match) at seq {last.seq})")


async def test_only_a_record_never_activated_is_grounded_as_abandoned(client: httpx.AsyncClient) -> None:
    record, _ = await owner_of(client)
    await append(Actor(None, "Exploitant du DMP", None, Role.SUPPORT.value),
                 PendingEvent(record.id, AccessAction.RECORD_ACTIVATED))
    assert await grounds(record.id, never_activated=True) == "its history shows it was activated"
    pending = await Record.create(ins=factories.new_ins(), first_name="A", last_name="B",
                                  birth_date=dt.date(1980, 1, 1), status=RecordStatus.PENDING)
    assert await grounds(pending.id, never_activated=True) is None
