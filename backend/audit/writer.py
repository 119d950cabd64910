"""Appending events: numbered per record, chained, durable before data leaves."""

from __future__ import annotations

import asyncio
import uuid
import weakref
from dataclasses import dataclass, field
from datetime import UTC
from typing import Any

from tortoise.transactions import in_transaction

from backend import clock, sql
from backend.audit.chain import GENESIS, event_fields, mac
from backend.authz.decision import MODE_STRENGTH
from backend.config import settings
from backend.domain.enums import AccessAction, AccessMode, Section
from backend.models import AccessEvent
from backend.notify import notices


@dataclass
class Actor:
    account_id: uuid.UUID | None
    name: str
    profession: str | None
    role: str

    @property
    def event_actor_id(self) -> str | None:
        """The account id as an event's `actor_id` column holds it."""
        return str(self.account_id) if self.account_id else None


def _stronger(a: AccessMode | None, b: AccessMode | None) -> AccessMode | None:
    if a is None or b is None:
        return a or b
    return a if MODE_STRENGTH.get(a, 0) >= MODE_STRENGTH.get(b, 0) else b


@dataclass
class PendingEvent:
    record_id: uuid.UUID
    action: AccessAction
    mode: AccessMode | None = None
    sections: set[Section] = field(default_factory=set)
    entry_id: str | None = None
    reason: str = ""
    # The mode each returned section was read in; the event's mode is the strongest of them.
    section_modes: dict[Section, AccessMode] = field(default_factory=dict)

    def add(self, mode: AccessMode | None, sections: set[Section] | frozenset[Section]) -> None:
        if not sections:
            if self.mode is None:
                self.mode = mode
            return
        self.sections.update(sections)
        if mode is not None:
            for section in sections:
                self.section_modes[section] = _stronger(self.section_modes.get(section), mode) or mode

    def by_mode(self) -> list[PendingEvent]:
        """This event, or where its sections were read in different modes (a grant and a
        break-glass), one event per mode with the sections read in it, the strongest first:
        the history then shows the emergency part of a read as an emergency access."""
        modes = set(self.section_modes.values())
        if len(modes) <= 1:
            return [self]
        ordered = sorted(modes, key=lambda m: MODE_STRENGTH.get(m, 0), reverse=True)
        parts = []
        for mode in ordered:
            sections = {s for s, m in self.section_modes.items() if m == mode}
            if mode == ordered[0]:  # sections noted without a mode go with the strongest
                sections |= self.sections - self.section_modes.keys()
            part = PendingEvent(self.record_id, self.action, mode, sections, self.entry_id, self.reason)
            part.section_modes = {s: mode for s in sections if s in self.section_modes}
            parts.append(part)
        return parts

    @property
    def effective_mode(self) -> AccessMode | None:
        if self.section_modes:
            best: AccessMode | None = None
            for mode in self.section_modes.values():
                best = _stronger(best, mode)
            return best
        return self.mode


# Taking the record's row lock and reading the chain's head are separate statements on
# purpose: on PostgreSQL a statement sees the data as of its start, so a statement that
# waited for the lock would not see the event its predecessor just committed.
_BUMP = 'UPDATE "record" SET "event_seq" = "event_seq" + 1 WHERE "id" = $1 RETURNING "event_seq"'
# The previous MAC, and whether this actor accessed the record before (the first-access notice).
_HEAD = (
    'SELECT (SELECT "mac" FROM "access_event" WHERE "record_id" = $1 AND "seq" = $2),'
    ' EXISTS(SELECT 1 FROM "access_event" WHERE "record_id" = $1 AND "actor_id" = $3'
    ' AND "seq" <= $2 AND "action" NOT IN ($4, $5))'
)
# The columns an event is written with, in the order of INSERT_EVENT's parameters.
_EVENT_COLUMNS = (
    "record_id", "seq", "at", "actor_id", "actor_name", "actor_profession", "actor_role", "action",
    "mode", "sections", "entry_id", "reason", "mac",
)
_COLUMN_LIST = ", ".join(f'"{column}"' for column in _EVENT_COLUMNS)
INSERT_EVENT = (
    f'INSERT INTO "access_event" ({_COLUMN_LIST})'  # noqa: S608 - fixed column names only
    f' VALUES ({", ".join(f"${n}" for n in range(1, len(_EVENT_COLUMNS) + 1))})'
)
_SECTIONS = AccessEvent._meta.fields_map["sections"]


def _event_row(key: bytes, actor: Actor, event: PendingEvent, seq: int, previous_mac: str) -> list[Any]:
    """The parameters of INSERT_EVENT for the event at `seq` after `previous_mac`."""
    actor_id = actor.event_actor_id
    at = clock.now().astimezone(UTC)
    mode = event.effective_mode
    fields = event_fields(
        record_id=str(event.record_id),
        seq=seq,
        at=at,
        actor_id=actor_id,
        actor_name=actor.name,
        actor_profession=actor.profession,
        actor_role=actor.role,
        action=str(event.action),
        mode=str(mode) if mode else None,
        sections=list(map(str, event.sections)),
        entry_id=event.entry_id,
        reason=event.reason,
    )
    digest = mac(key, fields, previous_mac)
    return [
        event.record_id, seq, at, actor_id, actor.name, actor.profession, actor.role,
        fields["action"], fields["mode"], _SECTIONS.to_db_value(fields["sections"], AccessEvent),
        event.entry_id, event.reason, digest,
    ]


def _as_model(params: list[Any]) -> AccessEvent:
    """The event written with INSERT_EVENT's `params`, as the ORM reads it back."""
    values = dict(zip(_EVENT_COLUMNS, params, strict=True))
    values["sections"] = _SECTIONS.to_python_value(values["sections"])
    return AccessEvent(**values)


async def _append(conn: Any, key: bytes, actor: Actor, event: PendingEvent) -> tuple[list[Any], bool]:
    """Write one event at its record's head: its INSERT_EVENT parameters, and whether the
    actor came before."""
    # The UPDATE comes first: it takes the record row's write lock, so concurrent writers
    # to one record queue there and sequence numbers and MACs never fork.
    bumped = await sql.fetch(_BUMP, [event.record_id], conn)
    if not bumped:
        raise LookupError("the record of an access event does not exist")
    seq = int(bumped[0][0])
    actor_id = actor.event_actor_id
    head = await sql.fetch(
        _HEAD, [event.record_id, seq - 1, actor_id, *_NOT_ACCESSES], conn
    )
    previous, seen_before = head[0][0], bool(head[0][1])
    params = _event_row(key, actor, event, seq, str(previous) if previous else GENESIS)
    await sql.execute(INSERT_EVENT, params, conn)
    return params, seen_before


# The steady state on PostgreSQL, in two statements and no transaction: read the head (its
# number, its MAC, and whether this actor came before), compute the MAC, then one statement
# moves the head by one only if it has not moved, and inserts the event with it; a single
# statement commits both or neither. If another writer moved the head in between, or a rekey
# sealed the chain anew (the condition no longer holds once its lock is released), nothing is
# written and the head is read again. Writers in this process take a lock per record first,
# so they queue here instead of retrying. The first event of an actor on a record, which may
# e-mail the patient in the same transaction, and requests with several events take the
# locked path.
_PG_STEADY_HEAD = (
    'SELECT r."event_seq", (SELECT e."mac" FROM "access_event" e'
    ' WHERE e."record_id" = r."id" AND e."seq" = r."event_seq"),'
    ' EXISTS(SELECT 1 FROM "access_event" e WHERE e."record_id" = r."id"'
    ' AND e."actor_id" = $2 AND e."action" NOT IN ($3, $4)), r."audit_epoch"'
    ' FROM "record" r WHERE r."id" = $1'
)
# The head has not moved, and no rekey sealed the chain anew since it was read (its MAC would
# then be another): both are columns of the record's row, which the UPDATE checks again after
# waiting for another writer's lock.
_PG_STEADY_APPEND = (
    'WITH "head" AS (UPDATE "record" SET "event_seq" = "event_seq" + 1'  # noqa: S608 - fixed names
    ' WHERE "id" = $1 AND "event_seq" = $2 - 1 AND "audit_epoch" = $14 RETURNING "event_seq")'
    f' INSERT INTO "access_event" ({_COLUMN_LIST})'
    ' SELECT $1::uuid, $2::int, $3::timestamptz, $4::text, $5::text, $6::text, $7::text,'
    ' $8::text, $9::text, $10::jsonb, $11::text, $12::text, $13::text FROM "head"'
    ' RETURNING "seq"'
)
_STEADY_TRIES = 3
# Events that do not make an actor "seen before" (the first-access notice): a refusal, and
# the opening of the record at the point of care, before its patient had an account to tell.
_NOT_ACCESSES = (str(AccessAction.ACCESS_DENIED), str(AccessAction.RECORD_OPENED))
_record_locks: weakref.WeakValueDictionary[uuid.UUID, asyncio.Lock] = weakref.WeakValueDictionary()


async def _append_steady(key: bytes, actor: Actor, event: PendingEvent) -> int | None:
    """The event written without a transaction, its sequence number; None where the locked
    path must write it."""
    lock = _record_locks.get(event.record_id)
    if lock is None:
        lock = _record_locks[event.record_id] = asyncio.Lock()
    actor_id = actor.event_actor_id
    conn = sql.default()
    async with lock:
        for _ in range(_STEADY_TRIES):
            head = await sql.fetch(_PG_STEADY_HEAD, [event.record_id, actor_id, *_NOT_ACCESSES], conn)
            if not head:
                raise LookupError("the record of an access event does not exist")
            current, previous, seen_before, epoch = head[0]
            if not seen_before:
                return None
            previous_mac = str(previous) if previous else GENESIS
            seq = int(current) + 1
            params = _event_row(key, actor, event, seq, previous_mac)
            if await sql.fetch(_PG_STEADY_APPEND, [*params, epoch], conn):
                return seq
    return None


async def append_all(actor: Actor, events: list[PendingEvent]) -> None:
    """Write a request's events and their notifications in one transaction.

    Records are taken in a fixed order (by id), so two requests touching the same records
    lock them in the same order and cannot deadlock.
    """
    key = settings().audit_key
    # Not inside a transaction: a change's transaction holds its record's row lock, which a
    # writer of this process waiting on PostgreSQL for it would hold the record's asyncio
    # lock against (AccessLog.changing); the locked path below needs no asyncio lock.
    if len(events) == 1 and sql.pooled_postgres() and await _append_steady(key, actor, events[0]) is not None:
        return
    async with in_transaction() as conn:
        for event in sorted(events, key=lambda e: str(e.record_id)):
            params, seen_before = await _append(conn, key, actor, event)
            if not seen_before:
                await notices.after_event(_as_model(params), using_db=conn, seen_before=False)


async def append(actor: Actor, event: PendingEvent) -> None:
    """Write one event at the head of its record's chain (outside a request)."""
    await append_all(actor, [event])
