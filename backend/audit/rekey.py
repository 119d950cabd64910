"""Moving the access history to a new audit key (`dmp audit rekey`), while the service runs.

After `DMP_AUDIT_KEY` is replaced (the old key in `DMP_PREVIOUS_AUDIT_KEY`), each chain is
checked under the keys it may be under: the previous key, then the current one from the
first event a restarted service wrote with it (verify.check_chain). Its MACs are then
computed again under the current key, one record per transaction with the record's row
locked. A chain that does not verify is left as it was and reported, never sealed anew; a
chain already under the current key is skipped, so the command can be run again after an
interruption. Purge seals are checked and sealed again the same way.

The service may keep running, once restarted with the new key (its events then go on under
it). Every event write that could fall between the rekey's reading of a chain and its sealing
waits for the record's row, which the rekey holds: the locked path takes it first; the
steady path of PostgreSQL (audit/writer.py), which reads the head before it writes, writes
only if the record's `audit_epoch`, moved here with the new MACs, is still the one it read,
and otherwise reads the head's new MAC again.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field

from tortoise.transactions import in_transaction

from backend import sql
from backend.audit.chain import GENESIS
from backend.audit.verify import (
    EVENT_COLUMNS,
    UNREADABLE_ERRORS,
    Problem,
    check_chain,
    expected_mac,
    first_problem_of_unreadable,
    readable_events,
    seal_key_of,
    seal_of,
)
from backend.models import AccessEvent, PurgedRecord, Record

_SET_MAC = 'UPDATE "access_event" SET "mac" = $1 WHERE "id" = $2'
_NEXT_EPOCH = 'UPDATE "record" SET "audit_epoch" = "audit_epoch" + 1 WHERE "id" = $1'


@dataclass
class RekeyReport:
    records: int = 0  # chains sealed anew under the current key
    events: int = 0
    already: int = 0  # chains already wholly under the current key
    seals: int = 0  # purge seals sealed anew
    problems: list[Problem] = field(default_factory=list)


async def rekey(key: bytes, previous_key: bytes) -> RekeyReport:
    report = RekeyReport()
    record_ids = await Record.filter(event_seq__gt=0).order_by("id").values_list("id", flat=True)
    for record_id in record_ids:
        await _rekey_chain(key, previous_key, uuid.UUID(str(record_id)), report)
    for purged in await PurgedRecord.all().order_by("record_id"):
        used = seal_key_of([key, previous_key], purged)
        if used is None:
            report.problems.append(Problem(purged.record_id, purged.last_seq,
                                           "the record's purge seal does not verify"))
        elif used is previous_key:
            purged.mac = seal_of(key, purged)
            await purged.save(update_fields=["mac"])
            report.seals += 1
    return report


async def _rekey_chain(key: bytes, previous_key: bytes, record_id: uuid.UUID, report: RekeyReport) -> None:
    async with in_transaction() as conn:
        record = await Record.filter(id=record_id).select_for_update().using_db(conn).first()
        if record is None:  # purged meanwhile
            return
        events = AccessEvent.filter(record_id=record_id).using_db(conn).order_by("seq")
        try:
            rows = await events.values("id", *EVENT_COLUMNS)
        except UNREADABLE_ERRORS:  # one holds a value no writer stores: reported, left as it is
            readable = await readable_events(record_id, "id", *EVENT_COLUMNS, conn=conn)
            report.problems.append(first_problem_of_unreadable(key, record_id, readable, previous_key))
            return
        check = check_chain(key, record_id, record.event_seq, rows, previous_key)
        if check.problem is not None:
            report.problems.append(check.problem)
            return
        if check.under_previous == 0:
            report.already += 1
            return
        changed = []
        previous = GENESIS
        for row in rows:
            mac = expected_mac(key, record_id, row, previous)
            if mac != row["mac"]:
                changed.append([mac, row["id"]])
            previous = mac
        await conn.execute_many(sql.text_for(conn, _SET_MAC), changed)
        # A steady event write that read the head before this checks the epoch, and reads again.
        await sql.execute(_NEXT_EPOCH, [record_id], conn)
        report.records += 1
        report.events += len(changed)
