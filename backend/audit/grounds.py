"""Whether a record's own history grounds its purge (for `dmp purge`, under the record's lock).

The purge picks records by columns of their row (status, closing date, deletion request),
which whoever can write to the database can set; its seal then lets `dmp audit verify
--anchor` accept the record's disappearance. The history is what that person cannot write:
every lifecycle change writes its event, MAC'd with the audit key, in the change's
transaction. A purge is grounded only where the chain verifies and shows what the row says,
early enough: a closing not reopened since, or a deletion request not cancelled since, before
its cutoff; for a record nobody activated, no activation at all.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from backend.audit.verify import EVENT_COLUMNS, UNREADABLE_ERRORS, check_chain
from backend.domain.enums import AccessAction
from backend.models import AccessEvent

# The events that open and end each state a purge may rest on: a closing, a deletion request.
CLOSING = (AccessAction.RECORD_CLOSED, AccessAction.RECORD_REOPENED)
DELETION = (AccessAction.DELETION_REQUESTED, AccessAction.DELETION_CANCELLED)


def _began_before(rows: list[dict[str, Any]], pair: tuple[AccessAction, AccessAction],
                  cutoff: datetime | None) -> bool:
    """Whether the last of `pair`'s events is its first (the state began, and did not end)
    and was written before `cutoff`."""
    last = next((row for row in reversed(rows) if row["action"] in pair), None)
    return (cutoff is not None and last is not None and last["action"] == pair[0]
            and last["at"].astimezone(UTC) < cutoff)


def ungrounded(
    key: bytes,
    record_id: uuid.UUID,
    head_seq: int,
    rows: list[dict[str, Any]],
    *,
    closed_before: datetime | None = None,
    deletion_requested_before: datetime | None = None,
    never_activated: bool = False,
    previous_key: bytes | None = None,
) -> str | None:
    """None if the chain (`rows`, up to `head_seq`) verifies and grounds the purge: a closing
    (not reopened since) before `closed_before`, a deletion request (not cancelled since)
    before `deletion_requested_before`, or with `never_activated` no activation at all;
    otherwise why not, in words that name no content."""
    check = check_chain(key, record_id, head_seq, rows, previous_key)
    if check.problem is not None:
        return f"its history does not verify ({check.problem.what} at seq {check.problem.seq})"
    if never_activated:
        if any(row["action"] == AccessAction.RECORD_ACTIVATED for row in rows):
            return "its history shows it was activated"
        return None
    # A deletion asked for (and cancelled) while closed leaves the closing as it was.
    if _began_before(rows, CLOSING, closed_before):
        return None
    if _began_before(rows, DELETION, deletion_requested_before):
        return None
    return "its history does not show a closing or deletion request old enough"


async def purge_ungrounded(
    key: bytes,
    record_id: uuid.UUID,
    head_seq: int,
    conn: Any,
    *,
    closed_before: datetime | None = None,
    deletion_requested_before: datetime | None = None,
    never_activated: bool = False,
    previous_key: bytes | None = None,
) -> str | None:
    """`ungrounded` for the chain as read on `conn` (the purge's transaction, which holds the
    record's row lock, so the chain read is the one the seal will close)."""
    events = AccessEvent.filter(record_id=record_id).using_db(conn).order_by("seq")
    try:
        rows = await events.values(*EVENT_COLUMNS)
    except UNREADABLE_ERRORS:
        return "its history does not verify (an event holds a value no writer stores)"
    return ungrounded(
        key, record_id, head_seq, rows, closed_before=closed_before,
        deletion_requested_before=deletion_requested_before, never_activated=never_activated,
        previous_key=previous_key,
    )
