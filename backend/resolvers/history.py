"""The patient's access history and the review of emergency accesses (DESIGN §4)."""

from __future__ import annotations

import asyncio
import base64
import binascii
import datetime as dt
import uuid
from dataclasses import dataclass, field
from typing import Any

from tortoise.expressions import Q

from backend import clock, sql
from backend.audit import reasons
from backend.domain.enums import (
    AccessAction,
    AccessMode,
    EmergencyKind,
    Profession,
    RecordStatus,
    ReviewState,
)
from backend.domain.reasons import Reason
from backend.domain.text import lines
from backend.errors import BadUserInput, Conflict, NotFound
from backend.models import AccessEvent, EmergencySession, Practitioner, Record
from backend.resolvers.context import Context
from backend.resolvers.pagination import MAX_FIRST, check_first, decode_int_cursor, encode_int_cursor
from backend.resolvers.records import patients_own_record

CURSOR_KIND = "h"
EMERGENCY_ACTIONS = frozenset({AccessAction.BREAK_GLASS_OPENED.value, AccessAction.REGULATOR_ACCESS.value})
EMERGENCY_MODES = frozenset({AccessMode.BREAK_GLASS.value, AccessMode.EMERGENCY_REGULATOR.value})
# The owner reads their history in every state where the record is theirs to read.
READABLE = (RecordStatus.ACTIVE, RecordStatus.CLOSED, RecordStatus.DELETED)
# The states in which the owner reads their entries (DESIGN §3, rule 2), and so their titles in
# the history: not while the record's deletion is pending.
ENTRIES_READABLE = (RecordStatus.ACTIVE, RecordStatus.CLOSED)
# The actions whose event names an entry of the record by its id (EMERGENCY_REVIEWED's names an
# emergency access).
ENTRY_ACTIONS = frozenset({
    AccessAction.ENTRY_ADDED.value, AccessAction.ENTRY_MASKED.value, AccessAction.ENTRY_UNMASKED.value,
    AccessAction.ENTRY_DELETED.value, AccessAction.DOCUMENT_DOWNLOADED.value,
})
# The sequence numbers an event may have (the column is a 32-bit integer, from 1).
SEQ_MIN, SEQ_MAX = 1, 2**31 - 1
COMMENT_MAX = 2000
# myEmergencyAccesses, which has no pages: its newest openings, as many as a page may hold.
EMERGENCY_LIST_MAX = MAX_FIRST
REVIEW_CURSOR_KIND = "r"
REPORTED_STAYS = "This emergency access was reported as unjustified; it cannot be acknowledged"


@dataclass
class HistoryFilter:
    start: dt.datetime | None = None
    end: dt.datetime | None = None
    actor_id: str | None = None
    actions: list[AccessAction] = field(default_factory=list)
    modes: list[AccessMode] = field(default_factory=list)


@dataclass
class HistoryPage:
    events: list[AccessEvent]
    has_next_page: bool
    # The filters' WHERE clause and its parameters (`_where`); None for no record.
    where: tuple[str, list[Any]] | None
    # The record whose entries' titles the owner may read (ENTRIES_READABLE), or None.
    titled: uuid.UUID | None = None
    _titles: dict[uuid.UUID, str] | None = field(default=None, init=False, repr=False)
    _reading: asyncio.Lock | None = field(default=None, init=False, repr=False)

    async def total_count(self) -> int:
        if self.where is None:
            return 0
        text, params = self.where
        rows = await sql.fetch(f'SELECT COUNT(*) FROM "access_event" WHERE {text}', params)  # noqa: S608
        return int(rows[0][0])

    async def entry_title(self, event: AccessEvent) -> str | None:
        """The current title of the entry `event` names; None if it names none, the entry was
        deleted or the owner may not read it now. Read once for the whole page, when first
        asked for (the events' fields are resolved together: the others wait for that read)."""
        key = named_entry(event)
        if key is None or self.titled is None:
            return None
        if self._reading is None:
            self._reading = asyncio.Lock()
        async with self._reading:
            if self._titles is None:
                named = {k for e in self.events if (k := named_entry(e)) is not None}
                self._titles = await entry_titles(self.titled, named)
        return self._titles.get(key)


def named_entry(event: AccessEvent) -> uuid.UUID | None:
    """The entry an event names, by the id it stored; None for an event that names none."""
    if event.action not in ENTRY_ACTIONS or not event.entry_id:
        return None
    try:
        return uuid.UUID(event.entry_id)
    except ValueError:
        return None


async def entry_titles(record_id: uuid.UUID, ids: set[uuid.UUID]) -> dict[uuid.UUID, str]:
    """The current titles of the record's entries among `ids`, in one statement (none for no
    id); a deleted entry has none. A corrected entry keeps its own title. It decides no access:
    the caller has established that the record is the viewer's own, its entries theirs to read."""
    if not ids:
        return {}
    wanted = sorted(ids)
    marks = ", ".join(f"${k}" for k in range(2, len(wanted) + 2))
    rows = await sql.fetch(
        f'SELECT "id", "title" FROM "entry" WHERE "record_id" = $1 AND "id" IN ({marks})',  # noqa: S608
        [record_id, *wanted],
    )
    return {uuid.UUID(str(row[0])): str(row[1]) for row in rows}


def event_id(record_id: uuid.UUID | str, seq: int) -> str:
    """An event's id, as myAccessHistory and both exports give it: a UUIDv5 of the record's id
    and the event's number in the record's history (`seq`). Opaque and stable (the same event
    has the same id in every answer and every export, whatever a rekey does to its MAC), unique
    across records, and it says nothing the number does not: not the event's row id, which
    counts every access the service recorded, across all records."""
    record = record_id if isinstance(record_id, uuid.UUID) else uuid.UUID(str(record_id))
    return str(uuid.uuid5(record, f"access-event:{seq}"))


def id_of(event: AccessEvent) -> str:
    """`event_id` of an event read with its record's id (every event is)."""
    return event_id(event.record_id, event.seq)  # type: ignore[attr-defined]


def is_emergency(event: AccessEvent) -> bool:
    return event.action in EMERGENCY_ACTIONS or (event.mode or "") in EMERGENCY_MODES


def cursor_of(event: AccessEvent) -> str:
    return encode_int_cursor(CURSOR_KIND, event.seq)


def _cursor_seq(after: str) -> int:
    """The sequence number a cursor names; one no event can have is an invalid cursor (the
    database would refuse a number past its column's range as an internal error)."""
    seq = decode_int_cursor(CURSOR_KIND, after)
    if not SEQ_MIN <= seq <= SEQ_MAX:
        raise BadUserInput("Invalid cursor", Reason.INVALID_ID, field="after")
    return seq


async def _own_record(ctx: Context) -> Record | None:
    record = await patients_own_record(ctx, "Only the patient reads their access history")
    return record if record is not None and record.status in READABLE else None


async def _actor_account_id(actor_id: str) -> str:
    """An actor is named by account id, or by the practitioner id that mySharing shows."""
    try:
        parsed = uuid.UUID(actor_id)
    except ValueError:
        raise BadUserInput("Invalid actorId", Reason.INVALID_ID, field="filter.actorId") from None
    accounts = await Practitioner.filter(id=parsed).values_list("account_id", flat=True)
    return str(accounts[0]) if accounts else str(parsed)


def _utc(moment: dt.datetime, field: str) -> dt.datetime:
    """A bound of the filter in UTC, as the events' times are stored: SQLite compares them as
    text, so a bound with another offset would be compared wrongly. (A time without an
    offset is taken as UTC, the ORM's time zone.)"""
    try:
        return moment.replace(tzinfo=dt.UTC) if moment.tzinfo is None else moment.astimezone(dt.UTC)
    except OverflowError:  # the first or last day of year 1 or 9999, moved past it
        raise BadUserInput(
            f"{field} is out of range", Reason.OUT_OF_RANGE, field=field,
            min="0001-01-01T00:00:00Z", max="9999-12-31T23:59:59Z",
        ) from None


async def _where(record_id: uuid.UUID, f: HistoryFilter | None) -> tuple[str, list[Any]]:
    """The filters as a WHERE clause over "access_event" with `$n` parameters; values are
    always parameters."""
    clauses, params = ['"record_id" = $1'], [record_id]

    def add(clause: str, *values: Any) -> None:
        marks = ", ".join(f"${len(params) + k}" for k in range(1, len(values) + 1))
        clauses.append(clause.format(marks))
        params.extend(values)

    if f is None:
        return clauses[0], params
    start = _utc(f.start, "filter.from") if f.start is not None else None
    end = _utc(f.end, "filter.to") if f.end is not None else None
    if start is not None and end is not None and start > end:
        raise BadUserInput(
            "filter.from must not be after filter.to", Reason.DATES_REVERSED, field="filter.to"
        )
    if start is not None:
        add('"at" >= {}', start)
    if end is not None:
        add('"at" <= {}', end)
    if f.actor_id is not None:
        add('"actor_id" = {}', await _actor_account_id(f.actor_id))
    if f.actions:
        add('"action" IN ({})', *sorted({a.value for a in f.actions}))
    if f.modes:
        add('"mode" IN ({})', *sorted({m.value for m in f.modes}))
    return " AND ".join(clauses), params


async def read_events(
    where: str, params: list[Any], *, before_seq: int | None, limit: int | None, newest_first: bool = True
) -> list[AccessEvent]:
    """The events a WHERE clause over "access_event" selects (`$n` parameters, as `_where`
    builds them), by sequence number; only those before `before_seq`, at most `limit`: one
    statement."""
    params = [*params]
    if before_seq is not None:
        params.append(before_seq)
        where += f' AND "seq" < ${len(params)}'
    order = "DESC" if newest_first else "ASC"
    text = f'SELECT * FROM "access_event" WHERE {where} ORDER BY "seq" {order}'  # noqa: S608
    if limit is not None:
        params.append(limit)
        text += f" LIMIT ${len(params)}"
    rows = await sql.fetch(text, params)
    conn = sql.default()
    return [sql.model(AccessEvent, row, conn) for row in rows]


async def my_access_history(
    ctx: Context, first: int, after: str | None, f: HistoryFilter | None
) -> HistoryPage:
    """Newest first, by sequence number; the patient's own record only."""
    first = check_first(first)
    record = await _own_record(ctx)
    if record is None:
        return HistoryPage([], False, None)
    where, params = await _where(record.id, f)
    before = _cursor_seq(after) if after else None
    events = await read_events(where, params, before_seq=before, limit=first + 1)
    titled = record.id if record.status in ENTRIES_READABLE else None
    return HistoryPage(events[:first], len(events) > first, (where, params), titled)


async def record_history(record_id: uuid.UUID, up_to_seq: int) -> list[AccessEvent]:
    """A record's events numbered 1 to `up_to_seq`, oldest first, in one statement. It decides
    no access: the caller has established that the record is the viewer's own."""
    if up_to_seq < SEQ_MIN:
        return []
    # Bounded to the column's range, which PostgreSQL would refuse a parameter past.
    return await read_events(
        '"record_id" = $1 AND "seq" <= $2', [record_id, min(up_to_seq, SEQ_MAX)],
        before_seq=None, limit=None, newest_first=False,
    )


@dataclass
class EmergencyPage:
    sessions: list[EmergencySession]
    has_next_page: bool
    record_id: uuid.UUID | None

    async def total_count(self) -> int:
        if self.record_id is None:
            return 0
        return await EmergencySession.filter(record_id=self.record_id).count()


def review_cursor_of(session: EmergencySession) -> str:
    """A position in the review list: the opening's time and id (newest first)."""
    opened = session.opened_at.astimezone(dt.UTC).isoformat()
    return base64.urlsafe_b64encode(f"{REVIEW_CURSOR_KIND}|{opened}|{session.id}".encode()).decode()


def _review_position(after: str) -> tuple[dt.datetime, uuid.UUID]:
    try:
        kind, opened, sid = base64.urlsafe_b64decode(after.encode()).decode().split("|")
        if kind != REVIEW_CURSOR_KIND:
            raise ValueError(kind)
        at = dt.datetime.fromisoformat(opened)
        if at.tzinfo is None:
            raise ValueError(opened)
        return at.astimezone(dt.UTC), uuid.UUID(sid)
    except (ValueError, UnicodeDecodeError, binascii.Error, OverflowError):
        raise BadUserInput("Invalid cursor", Reason.INVALID_ID, field="after") from None


async def _emergency_sessions(
    record_id: uuid.UUID, limit: int, after: tuple[dt.datetime, uuid.UUID] | None
) -> list[EmergencySession]:
    """The record's openings newest first (time, then id), after a position, at most `limit`."""
    query = EmergencySession.filter(record_id=record_id)
    if after is not None:
        at, sid = after
        query = query.filter(Q(opened_at__lt=at) | Q(opened_at=at, id__lt=sid))
    return await query.order_by("-opened_at", "-id").limit(limit).prefetch_related("practitioner__account")


async def my_emergency_accesses(ctx: Context) -> list[EmergencySession]:
    """The newest EMERGENCY_LIST_MAX openings; my_emergency_access_page pages through all."""
    record = await _own_record(ctx)
    if record is None:
        return []
    return await _emergency_sessions(record.id, EMERGENCY_LIST_MAX, None)


async def my_emergency_access_page(ctx: Context, first: int, after: str | None) -> EmergencyPage:
    """Newest first, by opening time then id; the patient's own record only."""
    first = check_first(first)
    record = await _own_record(ctx)
    if record is None:
        return EmergencyPage([], False, None)
    position = _review_position(after) if after else None
    sessions = await _emergency_sessions(record.id, first + 1, position)
    return EmergencyPage(sessions[:first], len(sessions) > first, record.id)


async def review_emergency_access(
    ctx: Context, session_id: str, state: ReviewState, comment: str | None = None
) -> EmergencySession:
    """Acknowledge or report one emergency access of the patient's own record.

    A report ends the access reported if it is still open: its end (`expires_at`) is set to
    the report's time, in the review's transaction under the record's lock, as a block, an
    opposition or a closing ends sessions; the practitioner's next request is refused. Only
    that session ends (not the practitioner's other kind, not another practitioner's); one
    already over keeps its end. An acknowledgement ends nothing. A later opening by the same
    practitioner opens a new session, with its event and the patient's e-mail."""
    record = await _own_record(ctx)
    try:
        sid = uuid.UUID(session_id)
    except ValueError:
        raise NotFound("No such emergency access") from None
    session = (
        await EmergencySession.filter(id=sid, record_id=record.id)
        .prefetch_related("practitioner__account")
        .first()
        if record is not None
        else None
    )
    if session is None:
        raise NotFound("No such emergency access")
    # Kept as it shows in the history: without direction overrides, controls and zero-width
    # characters, its line breaks kept, letters that show as nothing read as a space; the limit
    # counts this text.
    said = lines(comment) if comment else ""
    if len(said) > COMMENT_MAX:
        raise BadUserInput(
            f"The comment is limited to {COMMENT_MAX} characters",
            Reason.FIELD_TOO_LONG, field="comment", max=COMMENT_MAX,
        )
    record_id: uuid.UUID = session.record_id  # type: ignore[attr-defined]
    _refuse_acknowledging_a_report(session, state)
    # The same state again writes nothing, unless it comes with something to say (a second
    # report's comment is kept in the history, not dropped) or a report finds the access still
    # open (one reported before reports ended accesses): it ends it.
    if session.review_state == state and not said and not _ends(session, state, clock.now()):
        return session
    async with ctx.access_log.changing(record_id) as conn:
        # Compared and returned as read under the record's lock: the same review sent twice
        # at once is written once.
        locked = (
            await EmergencySession.filter(id=sid)
            .select_related("practitioner__account")
            .using_db(conn)
            .first()
        )
        if locked is None:
            return session
        _refuse_acknowledging_a_report(locked, state)
        # The time once the lock is held: the access ends at the report's time, the one it is
        # reviewed at; a session whose time ran out while the report waited keeps its end.
        now = clock.now()
        ends = _ends(locked, state, now)
        if locked.review_state != state or said or ends:
            locked.review_state = state
            locked.reviewed_at = now
            fields = ["review_state", "reviewed_at"]
            if ends:
                locked.expires_at = now
                fields.append("expires_at")
            await locked.save(update_fields=fields, using_db=conn)
            await ctx.access_log.record_change(
                record_id, AccessAction.EMERGENCY_REVIEWED, mode=AccessMode.OWNER, entry_id=str(locked.id),
                reason=_reviewed(locked, state, said),
            )
    return locked


def _reviewed(session: EmergencySession, state: ReviewState, comment: str) -> str:
    """The review's reason: its state, the access it reviews (kind, opening, practitioner) and
    the patient's comment; the practitioner read with the session (`practitioner__account`)."""
    practitioner = session.practitioner
    who = reasons.professional(
        practitioner.account.display_name, Profession(practitioner.profession), practitioner.rpps
    )
    return reasons.reviewed_access(state, EmergencyKind(session.kind), session.opened_at, who, comment)


def _ends(session: EmergencySession, state: ReviewState, now: dt.datetime) -> bool:
    """Whether this review ends the access: a report of one still open at `now` (as the
    decision reads a session: open while its end is after now)."""
    return state == ReviewState.REPORTED and session.expires_at > now


def _refuse_acknowledging_a_report(session: EmergencySession, state: ReviewState) -> None:
    """A report stands: the patient may report an access they acknowledged (they learnt
    more), not turn their report of an unjustified access into an approval."""
    if state == ReviewState.ACKNOWLEDGED and session.review_state == ReviewState.REPORTED:
        raise Conflict(REPORTED_STAYS)
