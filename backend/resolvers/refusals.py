"""The refusal of a write to a record: what the caller reads, and the event it leaves."""

from __future__ import annotations

from backend.domain.enums import AccessAction, Section
from backend.errors import Forbidden, NoAccess
from backend.resolvers.context import Context
from backend.resolvers.records import NO_ACCESS, RecordView


def refused_write(
    ctx: Context, view: RecordView, message: str, *, to_owner: str | None = None,
    sections: frozenset[Section] = frozenset(),
) -> Forbidden:
    """`message` to a caller who has some access to the record (`to_owner`, where given, to
    its owner), and to anyone else the words of a record that does not exist. A denied attempt
    on an existing record is an event whatever its status, a pending one's too, as
    patientRecord writes it (DESIGN §4): the NoAccess answer waits for the same floor whether
    an event was written or not."""
    if not view.is_owner:
        ctx.access_log.note(view.record.id, AccessAction.ACCESS_DENIED, sections=sections)
    if view.is_owner and to_owner is not None:
        return Forbidden(to_owner)
    return Forbidden(message) if view.modes else NoAccess(NO_ACCESS)
