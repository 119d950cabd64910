"""The per-request access log: resolvers note what they returned, the extension writes it."""

from __future__ import annotations

import uuid

from backend.audit.writer import Actor, PendingEvent, append
from backend.domain.enums import AccessAction, AccessMode, Section


class AccessLog:
    """One event per record touched by a request (DESIGN §4).

    Reads by the record's owner are not events; their changes are.
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
            event = PendingEvent(record_id, action, mode, set(sections), entry_id, reason)
            self._events[key] = event
        else:
            event.sections.update(sections)
            if mode is not None and event.mode is None:
                event.mode = mode
        return event

    def section_returned(
        self, record_id: uuid.UUID, section: Section, mode: AccessMode
    ) -> None:
        if mode == AccessMode.OWNER:
            return
        self.note(record_id, AccessAction.RECORD_READ, mode=mode, sections={section})

    @property
    def pending(self) -> list[PendingEvent]:
        return list(self._events.values())

    async def flush(self) -> None:
        """Write every pending event; raises if any write fails."""
        events, self._events = list(self._events.values()), {}
        for event in events:
            await append(self.actor, event)
