"""The per-request access log: resolvers note what they returned, the extension writes it."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

from tortoise.transactions import in_transaction

from backend import sql
from backend.audit.writer import Actor, PendingEvent, append, append_all
from backend.domain.enums import AccessAction, AccessMode, Section

# Takes the record row's write lock without changing it.
_HOLD_RECORD = 'UPDATE "record" SET "event_seq" = "event_seq" WHERE "id" = $1'


class AccessLog:
    """One event per record touched by a request (DESIGN §4).

    Reads by the record's owner are not events; their changes are. All the reads of one
    record in one request fold into a single RECORD_READ whose sections are those actually
    returned, in the mode they were read in: where some were read through a grant and others
    through an emergency access, one RECORD_READ per mode.
    """

    def __init__(self, actor: Actor) -> None:
        self.actor = actor
        self._events: dict[tuple[uuid.UUID, AccessAction, str | None], PendingEvent] = {}
        self._completions: list[Callable[[], Awaitable[None]]] = []

    def note(
        self,
        record_id: uuid.UUID,
        action: AccessAction,
        *,
        mode: AccessMode | None = None,
        sections: set[Section] | frozenset[Section] = frozenset(),
        entry_id: str | None = None,
        reason: str = "",
    ) -> PendingEvent:
        """Note an access; reads of the same record in one request fold into one event."""
        key = (record_id, action, entry_id if action != AccessAction.RECORD_READ else None)
        event = self._events.get(key)
        if event is None:
            event = PendingEvent(record_id, action, entry_id=entry_id, reason=reason)
            self._events[key] = event
        elif reason and not event.reason:
            event.reason = reason
        event.add(mode, sections)
        return event

    def complete_when_written(self, work: Callable[[], Awaitable[None]]) -> None:
        """`work` done on the noted events when they are written (`flush`), before them: what a
        refusal's event says beyond the refusal is read then, within the time its answer waits
        for anyway (errors.NoAccess), so that reading it tells nothing of whether the record
        exists. If it fails, the write fails."""
        self._completions.append(work)

    @asynccontextmanager
    async def changing(self, record_id: uuid.UUID) -> AsyncIterator[Any]:
        """The transaction of a change to a record, which `record_change` writes the event in.

        The record's row is locked first, as the event write would lock it last: every change
        of one record then takes its locks in the same order, and two changes to a record
        (say, a grant and the record's closing) queue instead of deadlocking.
        """
        async with in_transaction() as conn:
            await sql.execute(_HOLD_RECORD, [record_id], conn)
            yield conn

    @asynccontextmanager
    async def change(
        self, record_id: uuid.UUID | None, action: AccessAction, *, mode: AccessMode | None = None,
        reason: str = "",
    ) -> AsyncIterator[Any]:
        """A change with its event written at the end of the block, in the same transaction;
        without a record (an account that owns none), the transaction alone."""
        if record_id is None:
            async with in_transaction() as conn:
                yield conn
            return
        async with self.changing(record_id) as conn:
            yield conn
            await self.record_change(record_id, action, mode=mode, reason=reason)

    async def record_change(
        self,
        record_id: uuid.UUID,
        action: AccessAction,
        *,
        mode: AccessMode | None = None,
        sections: set[Section] | frozenset[Section] = frozenset(),
        entry_id: str | None = None,
        reason: str = "",
    ) -> None:
        """Write a change's event at once, inside the transaction of the change.

        Called within the change's transaction (`changing`): the change and its event commit
        together or not at all, so neither a crash nor an outage between the two can keep a
        change the history does not show. Reads are noted instead (`note`), and written
        before their data leaves.
        """
        event = PendingEvent(record_id, action, entry_id=entry_id, reason=reason)
        event.add(mode, sections)
        await append(self.actor, event)

    def section_returned(self, record_id: uuid.UUID, section: Section, mode: AccessMode) -> None:
        """A section's content left for the response, read in `mode` (that section's mode)."""
        if mode == AccessMode.OWNER:
            return
        self.note(record_id, AccessAction.RECORD_READ, mode=mode, sections={section})

    @property
    def pending(self) -> list[PendingEvent]:
        return list(self._events.values())

    async def flush(self) -> None:
        """Write every pending event in one transaction; raises if the write fails."""
        completions, self._completions = self._completions, []
        for work in completions:
            await work()
        events, self._events = [part for e in self._events.values() for part in e.by_mode()], {}
        if events:
            await append_all(self.actor, events)
