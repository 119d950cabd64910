"""The per-request access log: resolvers note what they returned, the extension writes it."""

from __future__ import annotations

import uuid

from backend.audit.writer import Actor, PendingEvent, append_all
from backend.domain.enums import AccessAction, AccessMode, Section


class AccessLog:
    """One event per record touched by a request (DESIGN §4).

    Reads by the record's owner are not events; their changes are. All the reads of one
    record in one request fold into a single RECORD_READ whose sections are those actually
    returned and whose mode is the strongest mode among them.
    """

    def __init__(self, actor: Actor) -> None:
        self.actor = actor
        self._events: dict[tuple[uuid.UUID, AccessAction, str | None], PendingEvent] = {}

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
        events, self._events = list(self._events.values()), {}
        if events:
            await append_all(self.actor, events)
