"""Appending the events of many records in a few statements, inside the caller's transaction.

The same chain as backend/audit/writer.py (numbered per record, each MAC over the event and
the previous MAC), written for a request that touches hundreds of records at once, such as
an insurer import: one statement takes the records' heads, one reads the previous MACs,
one inserts the events. Since they run in the caller's transaction, what the caller wrote
commits with its events or not at all. It sends no first-access notice, so it refuses a
practitioner's events (writer.append_all writes those). A record may take several events
in the same three statements (`append_in_order`: an import's entries and its refused items).
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence
from datetime import UTC
from typing import Any

from tortoise.backends.base.client import BaseDBAsyncClient

from backend import clock, sql
from backend.audit.chain import GENESIS, event_fields, mac
from backend.audit.writer import INSERT_EVENT, Actor, PendingEvent
from backend.config import settings
from backend.domain.enums import Role

# The records' rows are locked in id order (as writer.append_all takes them), so two
# requests touching the same records queue instead of deadlocking; the UPDATE then moves
# each head by the number of its events. A separate SELECT reads the previous MACs: on
# PostgreSQL a statement's snapshot predates its lock waits, so the same statement could miss
# an event committed by the writer it waited for.
PG_HEADS = (
    'WITH "locked" AS MATERIALIZED (SELECT "id" FROM "record" WHERE "id" = ANY($1::uuid[])'
    ' ORDER BY "id" FOR NO KEY UPDATE)'
    ' UPDATE "record" SET "event_seq" = "record"."event_seq" + n."count"'
    ' FROM "locked" JOIN unnest($1::uuid[], $2::int[]) AS n("id", "count") ON n."id" = "locked"."id"'
    ' WHERE "record"."id" = "locked"."id" RETURNING "record"."id", "record"."event_seq"'
)
PG_PREVIOUS = (
    'SELECT e."record_id", e."mac" FROM "access_event" e'
    ' JOIN unnest($1::uuid[], $2::int[]) AS h("record_id", "seq")'
    ' ON e."record_id" = h."record_id" AND e."seq" = h."seq"'
)
PG_INSERT = (
    'INSERT INTO "access_event" ("record_id", "seq", "at", "actor_id", "actor_name",'
    ' "actor_profession", "actor_role", "action", "mode", "sections", "entry_id", "reason",'
    ' "mac") SELECT e."record_id", e."seq", $3::timestamptz, $4::text, $5::text,'
    ' $6::text, $7::text, e."action", e."mode",'
    ' e."sections"::jsonb, e."entry_id", e."reason", e."mac"'
    ' FROM unnest($1::uuid[], $2::int[], $8::text[], $9::text[], $10::text[], $11::text[],'
    ' $12::text[], $13::text[]) AS e("record_id", "seq", "action", "mode", "sections",'
    ' "entry_id", "reason", "mac")'
)
# SQLite has one writer at a time: the UPDATE is the lock, and RETURNING gives the heads.
SQLITE_HEADS = (
    'UPDATE "record" SET "event_seq" = "record"."event_seq" + n."count"'
    " FROM (SELECT json_extract(\"value\", '$[0]') AS \"id\", json_extract(\"value\", '$[1]') AS \"count\""
    ' FROM json_each(?)) AS n WHERE "record"."id" = n."id" RETURNING "record"."id", "record"."event_seq"'
)
SQLITE_PREVIOUS = (
    'SELECT e."record_id", e."mac" FROM json_each(?) h JOIN "access_event" e'
    " ON e.\"record_id\" = json_extract(h.\"value\", '$[0]')"
    " AND e.\"seq\" = json_extract(h.\"value\", '$[1]')"
)


async def _heads(
    conn: BaseDBAsyncClient, record_ids: list[uuid.UUID], counts: list[int]
) -> dict[uuid.UUID, int]:
    """Each record's head moved on by its count of events: the new heads."""
    if sql.is_sqlite(conn):
        pairs = json.dumps([[str(r), n] for r, n in zip(record_ids, counts, strict=True)])
        _, rows = await conn.execute_query(SQLITE_HEADS, [pairs])
        return {uuid.UUID(str(row[0])): int(row[1]) for row in rows}
    _, rows = await conn.execute_query(PG_HEADS, [record_ids, counts])
    return {row[0]: int(row[1]) for row in rows}


async def _previous_macs(
    conn: BaseDBAsyncClient, firsts: dict[uuid.UUID, int]
) -> dict[uuid.UUID, str]:
    """The MAC each chain continues from: the event before each record's first new one."""
    wanted = [(record_id, seq - 1) for record_id, seq in firsts.items() if seq > 1]
    if not wanted:
        return {}
    if sql.is_sqlite(conn):
        pairs = json.dumps([[str(record_id), seq] for record_id, seq in wanted])
        _, rows = await conn.execute_query(SQLITE_PREVIOUS, [pairs])
        return {uuid.UUID(str(row[0])): str(row[1]) for row in rows}
    _, rows = await conn.execute_query(
        PG_PREVIOUS, [[r for r, _ in wanted], [s for _, s in wanted]]
    )
    return {row[0]: str(row[1]) for row in rows}


async def append_many(
    conn: BaseDBAsyncClient, actor: Actor, events: Sequence[PendingEvent]
) -> int:
    """Write at most one event per record at the head of each chain; returns how many.

    Runs in `conn`, the caller's transaction: if anything fails, nothing of it commits.
    """
    if len({event.record_id for event in events}) != len(events):
        raise ValueError("append_many writes one event per record")
    return await append_in_order(conn, actor, events)


async def append_in_order(
    conn: BaseDBAsyncClient, actor: Actor, events: Sequence[PendingEvent]
) -> int:
    """Write the events at the head of their records' chains, a record's in the order given
    (several a record allowed), in the same three statements; returns how many.

    Runs in `conn`, the caller's transaction: if anything fails, nothing of it commits.
    """
    if actor.role == Role.PRACTITIONER.value:
        # A professional's first access e-mails the patient: writer.append_all does that.
        raise ValueError("the bulk writer does not send the first-access notice; use append_all")
    if not events:
        return 0
    by_record: dict[uuid.UUID, list[PendingEvent]] = {}
    for event in events:
        by_record.setdefault(event.record_id, []).append(event)
    record_ids = sorted(by_record)
    heads = await _heads(conn, record_ids, [len(by_record[r]) for r in record_ids])
    if len(heads) != len(record_ids):
        raise LookupError("the record of an access event does not exist")
    firsts = {r: heads[r] - len(by_record[r]) + 1 for r in record_ids}
    previous = await _previous_macs(conn, firsts)
    key = settings().audit_key
    at = clock.now().astimezone(UTC)
    actor_id = actor.event_actor_id
    rows: list[tuple[uuid.UUID, int, str, str | None, str, str | None, str, str]] = []
    for record_id in record_ids:
        chained = previous.get(record_id, GENESIS)
        for seq, event in enumerate(by_record[record_id], start=firsts[record_id]):
            mode = event.effective_mode
            fields = event_fields(
                record_id=str(record_id), seq=seq, at=at, actor_id=actor_id, actor_name=actor.name,
                actor_profession=actor.profession, actor_role=actor.role, action=event.action.value,
                mode=mode.value if mode else None, sections=[s.value for s in event.sections],
                entry_id=event.entry_id, reason=event.reason,
            )
            chained = mac(key, fields, chained)
            rows.append((
                record_id, seq, event.action.value, fields["mode"], json.dumps(fields["sections"]),
                event.entry_id, event.reason, chained,
            ))
    await _insert(conn, actor, actor_id, at, rows)
    return len(rows)


async def _insert(
    conn: BaseDBAsyncClient, actor: Actor, actor_id: str | None, at: Any,
    rows: list[tuple[uuid.UUID, int, str, str | None, str, str | None, str, str]],
) -> None:
    if sql.is_sqlite(conn):
        await conn.execute_many(sql.text_for(conn, INSERT_EVENT), [
            [str(record_id), seq, at, actor_id, actor.name, actor.profession, actor.role, action,
             mode, sections, entry_id, reason, event_mac]
            for record_id, seq, action, mode, sections, entry_id, reason, event_mac in rows
        ])
        return
    columns = list(zip(*rows, strict=True))
    await conn.execute_query(PG_INSERT, [
        list(columns[0]), list(columns[1]), at, actor_id, actor.name, actor.profession,
        actor.role, *(list(column) for column in columns[2:]),
    ])
