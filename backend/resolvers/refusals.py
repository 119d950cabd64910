"""The refusal of a write to a record: what the caller reads, and the event it leaves."""

from __future__ import annotations

from typing import Any

from backend.domain.enums import AccessAction, RecordStatus, Section
from backend.domain.reasons import Reason
from backend.errors import Forbidden, NoAccess
from backend.resolvers.context import Context
from backend.resolvers.records import NO_ACCESS, RecordView, owns

PENDING_DELETION = (
    "Your record is pending deletion: it cannot be changed. Cancel the deletion to change it."
)


def pending_deletion_reason(status: Any) -> dict[str, str]:
    """The reason of an owner's refused write (`Forbidden(message, **…)`): RECORD_PENDING_DELETION
    while the record waits for its deletion, none otherwise. For the owner's refusals only."""
    if status == RecordStatus.DELETED:
        return {"reason": Reason.RECORD_PENDING_DELETION.value}
    return {}


def owner_pending_deletion(ctx: Context, view: RecordView) -> bool:
    """Whether the viewer owns this record and it waits for its deletion. The owner has no
    access mode then (`view.is_owner` is False), yet is not someone refused an access."""
    return view.facts.status == RecordStatus.DELETED and owns(ctx.viewer.account_id, view.facts)


def refused_write(
    ctx: Context, view: RecordView, message: str, *, to_owner: str | None = None,
    pending_deletion: str = PENDING_DELETION, sections: frozenset[Section] = frozenset(),
) -> Forbidden:
    """`message` to a caller who has some access to the record (`to_owner`, where given, to
    its owner), and to anyone else the words of a record that does not exist. A denied attempt
    on an existing record is an event whatever its status, a pending one's too, as
    patientRecord writes it (DESIGN §4): the NoAccess answer waits for the same floor whether
    an event was written or not. The owner's own attempt is no denied access, whatever the
    record's status: while it waits for its deletion the owner has no access mode, and is
    told why (`pending_deletion`) rather than answered as a stranger."""
    if owner_pending_deletion(ctx, view):
        return Forbidden(pending_deletion, **pending_deletion_reason(view.facts.status))
    if owns(ctx.viewer.account_id, view.facts):
        return Forbidden(to_owner if to_owner is not None else message)
    ctx.access_log.note(view.record.id, AccessAction.ACCESS_DENIED, sections=sections)
    return Forbidden(message) if view.modes else NoAccess(NO_ACCESS)
