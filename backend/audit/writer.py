"""Appending events: numbered per record, chained, durable before data leaves."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import UTC

from tortoise.expressions import F
from tortoise.transactions import in_transaction

from backend import clock
from backend.audit.chain import GENESIS, event_fields, mac
from backend.config import settings
from backend.domain.enums import AccessAction, AccessMode, Section
from backend.models import AccessEvent, Record


@dataclass
class Actor:
    account_id: uuid.UUID | None
    name: str
    profession: str | None
    role: str


@dataclass
class PendingEvent:
    record_id: uuid.UUID
    action: AccessAction
    mode: AccessMode | None = None
    sections: set[Section] = field(default_factory=set)
    entry_id: str | None = None
    reason: str = ""


async def append(actor: Actor, event: PendingEvent) -> AccessEvent:
    """Write one event at the head of its record's chain, in one transaction.

    The record row is updated first, which takes its row lock: concurrent writers to the
    same record queue there, so sequence numbers and MACs never fork.
    """
    key = settings().audit_key
    async with in_transaction() as conn:
        await Record.filter(id=event.record_id).using_db(conn).update(
            event_seq=F("event_seq") + 1
        )
        record = await Record.get(id=event.record_id).using_db(conn).only("id", "event_seq")
        seq = record.event_seq
        previous = (
            await AccessEvent.filter(record_id=event.record_id, seq=seq - 1)
            .using_db(conn)
            .values_list("mac", flat=True)
        )
        previous_mac = str(previous[0]) if previous else GENESIS
        at = clock.now().astimezone(UTC)
        fields = event_fields(
            record_id=str(event.record_id),
            seq=seq,
            at=at,
            actor_id=str(actor.account_id) if actor.account_id else None,
            actor_name=actor.name,
            actor_profession=actor.profession,
            actor_role=actor.role,
            action=event.action.value,
            mode=event.mode.value if event.mode else None,
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
