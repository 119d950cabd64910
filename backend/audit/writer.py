"""Appending events: numbered per record, chained, durable before data leaves."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import UTC
from typing import Any, cast

from tortoise.expressions import F
from tortoise.transactions import in_transaction

from backend import clock
from backend.audit.chain import GENESIS, event_fields, mac
from backend.authz.decision import MODE_STRENGTH
from backend.config import settings
from backend.domain.enums import AccessAction, AccessMode, Section
from backend.models import AccessEvent, Record
from backend.notify import notices


@dataclass
class Actor:
    account_id: uuid.UUID | None
    name: str
    profession: str | None
    role: str


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

    @property
    def effective_mode(self) -> AccessMode | None:
        if self.section_modes:
            best: AccessMode | None = None
            for mode in self.section_modes.values():
                best = _stronger(best, mode)
            return best
        return self.mode


async def _append(conn: Any, key: bytes, actor: Actor, event: PendingEvent) -> AccessEvent:
    # The UPDATE comes first: it takes the record row's write lock, so concurrent writers
    # to one record queue there and sequence numbers and MACs never fork.
    updated = await Record.filter(id=event.record_id).using_db(conn).update(
        event_seq=F("event_seq") + 1
    )
    if not updated:
        raise LookupError("the record of an access event does not exist")
    seq = cast(int, (
        await Record.filter(id=event.record_id).using_db(conn).values_list("event_seq", flat=True)
    )[0])
    previous = (
        await AccessEvent.filter(record_id=event.record_id, seq=seq - 1)
        .using_db(conn)
        .values_list("mac", flat=True)
    )
    previous_mac = str(previous[0]) if previous else GENESIS
    at = clock.now().astimezone(UTC)
    mode = event.effective_mode
    fields = event_fields(
        record_id=str(event.record_id),
        seq=seq,
        at=at,
        actor_id=str(actor.account_id) if actor.account_id else None,
        actor_name=actor.name,
        actor_profession=actor.profession,
        actor_role=actor.role,
        action=event.action.value,
        mode=mode.value if mode else None,
        sections=[s.value for s in event.sections],
        entry_id=event.entry_id,
        reason=event.reason,
    )
    return await AccessEvent.create(
        using_db=conn,
        record_id=event.record_id,
        seq=seq,
        at=at,
        actor_id=fields["actor_id"],
        actor_name=actor.name,
        actor_profession=actor.profession,
        actor_role=actor.role,
        action=event.action.value,
        mode=fields["mode"],
        sections=fields["sections"],
        entry_id=event.entry_id,
        reason=event.reason,
        mac=mac(key, fields, previous_mac),
    )


async def append_all(actor: Actor, events: list[PendingEvent]) -> list[AccessEvent]:
    """Write a request's events and their notifications in one transaction.

    Records are taken in a fixed order (by id), so two requests touching the same records
    lock them in the same order and cannot deadlock.
    """
    key = settings().audit_key
    rows: list[AccessEvent] = []
    async with in_transaction() as conn:
        for event in sorted(events, key=lambda e: str(e.record_id)):
            row = await _append(conn, key, actor, event)
            await notices.after_event(row, using_db=conn)
            rows.append(row)
    return rows


async def append(actor: Actor, event: PendingEvent) -> AccessEvent:
    """Write one event at the head of its record's chain (outside a request)."""
    return (await append_all(actor, [event]))[0]
