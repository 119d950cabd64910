"""Reading a record: the viewer's decisions per section, and pages of entries."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from backend import clock, sql
from backend.audit import reasons
from backend.auth import limits
from backend.authz.decision import (
    ALLOW,
    DENY,
    NO_SHARING,
    Decision,
    RecordFacts,
    SharingFacts,
    ViewerFacts,
    section_modes,
    sees_masked,
    strongest,
)
from backend.authz.loaders import sharing_columns, sharing_from_row, sharing_join, sharing_params
from backend.config import settings
from backend.domain.enums import (
    AccessAction,
    AccessMode,
    EmergencyKind,
    RecordStatus,
    ReviewState,
    Role,
    Section,
)
from backend.errors import Forbidden, NoAccess, Unauthenticated
from backend.models import EmergencySession, Record
from backend.resolvers.arguments import ins_argument
from backend.resolvers.context import Context
from backend.resolvers.entry_pages import EntryRow, PageRequest, count_visible
from backend.resolvers.pagination import check_first, decode_entry_cursor, encode_entry_cursor


def record_facts(record: Record) -> RecordFacts:
    return RecordFacts(
        status=RecordStatus(record.status),
        owner_id=record.owner_id,  # type: ignore[attr-defined]
        treating_physician_id=record.treating_physician_id,  # type: ignore[attr-defined]
        allow_regulator=record.allow_regulator,
        allow_break_glass=record.allow_break_glass,
    )


def owns(account_id: Any, facts: RecordFacts) -> bool:
    """Whether this account owns the record, whatever its status (a pending record has no
    owner; an insurer's token no account)."""
    return account_id is not None and account_id == facts.owner_id


# The refusal of a record that does not exist, and of one the caller has no access to at all:
# the same words, so that nothing tells one from the other (DESIGN §2).
NO_ACCESS = "No access to this record"

# Refused accesses to records (patientRecord, documents' downloads; addEntry, uploadDocument
# and updateEmergencyProfile refused at their first decision) per caller (an account, which its
# practitioner's tokens count with; an insurer's token) and hour, whatever refused them: no
# access, an unknown INS or document, a pending or closed record. A refusal on an existing
# record is a denied attempt in its history, so without a bound one account would fill a
# patient's history with them at will. A practitioner's software may probe a few records it
# has no grant for; reading its own patients, it never meets the bound, which counts refusals
# only: a granted read costs nothing more and is answered past it. Both kinds of refusal count
# alike, so the count tells nothing of whether a record exists; past the bound the answer
# (RATE_LIMITED, nothing written) is the same for both, after the same statements.
REFUSED_READS_PER_HOUR = 60
TOO_MANY_REFUSED = "Too many refused accesses to records this hour; try again later"


async def count_refusal(ctx: Context) -> None:
    """Count one refused access of the caller this hour; RATE_LIMITED (to be answered instead
    of the refusal, nothing noted) past REFUSED_READS_PER_HOUR."""
    viewer = ctx.viewer
    key = f"record-refused:{viewer.account_id or viewer.token_id}"
    await limits.require(key, limits.utc_hour(), REFUSED_READS_PER_HOUR, TOO_MANY_REFUSED, window=limits.HOUR)


@dataclass
class RecordView:
    """A record as one viewer may see it: the decision is taken once per section."""

    record: Record
    viewer: ViewerFacts
    facts: RecordFacts
    sharing: SharingFacts
    modes: dict[Section, AccessMode] = field(default_factory=dict)

    def decision(self, section: Section) -> Decision:
        mode = self.modes.get(section)
        return ALLOW[mode] if mode is not None else DENY

    @cached_property  # `modes` is the decision, taken once when the view is built
    def access_mode(self) -> AccessMode | None:
        return strongest(self.modes)

    @property
    def is_owner(self) -> bool:
        return self.access_mode == AccessMode.OWNER


async def view_of(ctx: Context, record: Record) -> RecordView:
    facts = record_facts(record)
    viewer = ctx.facts
    sharing = await ctx.loaders.sharing.load(record.id)
    modes = section_modes(viewer, facts, sharing)
    return RecordView(record, viewer, facts, sharing, modes)


_OWN_RECORD = 'SELECT * FROM "record" WHERE "owner_id" = $1 LIMIT 1'


async def own_record(account_id: Any) -> Record | None:
    """The record `account_id` owns (at most one), or None."""
    return await sql.first(Record, _OWN_RECORD, [account_id])


async def patients_own_record(ctx: Context, not_a_patient: str) -> Record | None:
    """The signed-in patient's record, None if they have none; UNAUTHENTICATED without a
    caller, FORBIDDEN with `not_a_patient` for any role but a patient's."""
    viewer = ctx.viewer
    if not viewer.authenticated:
        raise Unauthenticated()
    if viewer.role != Role.PATIENT:
        raise Forbidden(not_a_patient)
    return await own_record(viewer.account_id)


async def my_record(ctx: Context) -> RecordView | None:
    viewer = ctx.viewer
    if not viewer.authenticated:
        raise Unauthenticated()
    if viewer.role != Role.PATIENT:
        return None
    record = await own_record(viewer.account_id)
    if record is None:
        return None
    view = await view_of(ctx, record)
    return view if view.modes else None


# The record and what it shares with the calling practitioner, in one statement.
_RECORD_AND_SHARING = (
    f'SELECT r.*, {sharing_columns(2)} FROM "record" r {sharing_join(2)} WHERE r."ins" = $1'  # noqa: S608
)


async def record_by_ins(ctx: Context, ins: str) -> Record:
    """The record of an INS, read with its sharing facts for the caller, which go to the
    request's loader (`view_of` then runs no statement of its own). One statement, whether the
    INS names a record or not, so that nothing a refusal does before its answer's floor tells
    one from the other (errors.NoAccess): patientRecord, addEntry, uploadDocument and
    updateEmergencyProfile take the record this way. An INS that names no record is refused
    (NO_ACCESS) and counted with refused reads (`count_refusal`), as a refusal on an existing
    record is (which writes a denied attempt): past the caller's bound, RATE_LIMITED for both
    alike."""
    practitioner_id = ctx.viewer.practitioner_id
    conn = sql.default()
    rows = await sql.fetch(_RECORD_AND_SHARING, [ins, *sharing_params(practitioner_id, clock.now())], conn)
    if not rows:
        await count_refusal(ctx)
        raise NoAccess(NO_ACCESS)
    row = rows[0]
    record = sql.model(Record, row, conn)
    if practitioner_id is not None:
        ctx.loaders.sharing.prime(record.id, sharing_from_row(row))
    return record


_RECORD_AND_SHARING_BY_ID = (
    f'SELECT r.*, {sharing_columns(2)} FROM "record" r {sharing_join(2)} WHERE r."id" = $1'  # noqa: S608
)


async def view_now(ctx: Context, record_id: Any, conn: Any) -> RecordView | None:
    """The caller's view of a record as it is now, read in `conn`: a write decides again under
    the record's lock (`AccessLog.changing`), where a closing, a revocation or a block that
    committed since its first decision is seen. None when the record is gone."""
    practitioner_id = ctx.viewer.practitioner_id
    rows = await sql.fetch(
        _RECORD_AND_SHARING_BY_ID, [record_id, *sharing_params(practitioner_id, clock.now())], conn
    )
    if not rows:
        return None
    return view_from_row(ctx, sql.model(Record, rows[0], conn), rows[0])


def view_from_row(ctx: Context, record: Record, row: Any) -> RecordView:
    """The caller's view of `record`, from a row that read its sharing facts with it
    (`sharing_columns`, with `sharing_params` of the caller's practitioner)."""
    sharing = sharing_from_row(row) if ctx.viewer.practitioner_id is not None else NO_SHARING
    facts = record_facts(record)
    return RecordView(record, ctx.facts, facts, sharing, section_modes(ctx.facts, facts, sharing))


async def patient_record(ctx: Context, ins: str) -> RecordView:
    """A practitioner's view; FORBIDDEN alike whether the INS exists or not."""
    viewer = ctx.viewer
    if not viewer.authenticated:
        raise Unauthenticated()
    record = await record_by_ins(ctx, ins_argument(ins))
    view = await view_of(ctx, record)
    if not view.modes:
        # Counted as an unknown INS is, before anything is noted: past the bound, nothing.
        await count_refusal(ctx)
        # A denied attempt on an existing record is an event, whatever its status (DESIGN §4),
        # but for its owner's own (a record waiting for its deletion): not someone refused.
        if not owns(viewer.account_id, view.facts):
            note_denied(ctx, view)
        raise NoAccess(NO_ACCESS)
    if not view.is_owner:
        # Opening a record reads its identity: an event even if no section is asked for.
        ctx.access_log.note(record.id, AccessAction.RECORD_READ, mode=view.access_mode)
    return view


@dataclass
class EntryPage:
    entries: list[EntryRow]
    has_next_page: bool
    view: RecordView
    request: PageRequest
    # Counted by the page's own query (a subquery), so totalCount costs no extra statement.
    known_total: int | None = None

    async def total_count(self) -> int:
        if self.known_total is not None:
            return self.known_total
        return await count_visible(self.request)


async def section_page(
    ctx: Context,
    view: RecordView,
    section: Section,
    first: int,
    after: str | None,
    include_superseded: bool = False,
    *,
    count: bool = True,
) -> EntryPage:
    """A page of one section; with `count`, the total comes from the same statement.

    Pages asked for in the same request are read together (resolvers/entry_pages.py).
    """
    first = check_first(first)
    mode = view.modes[section]
    hide_masked = not sees_masked(view.viewer, mode, None)
    request = PageRequest(
        record_id=view.record.id,
        section=section,
        first=first,
        after=decode_entry_cursor(after) if after else None,
        include_superseded=include_superseded,
        with_total=count,
        hide_masked=hide_masked,
        masked_author=view.viewer.account_id if hide_masked else None,
    )
    rows = await ctx.loaders.pages.load(request)
    ctx.access_log.section_returned(view.record.id, section, mode)
    known_total: int | None = None
    if count:
        known_total = rows.total if rows.entries else (0 if not after else None)
    entries = rows.entries
    return EntryPage(entries[:first], len(entries) > first, view, request, known_total)


def cursor_of(entry: EntryRow) -> str:
    return encode_entry_cursor(entry.care_date, entry.id)


def emergency_profile(ctx: Context, view: RecordView) -> dict[str, Any]:
    """The emergency profile, noted as read in its section's mode; refused to a view whose
    decision does not allow the section (default deny, whoever calls it)."""
    mode = view.modes.get(Section.EMERGENCY)
    if mode is None:
        raise Forbidden("This section is not shared with you")
    record = view.record
    ctx.access_log.section_returned(record.id, Section.EMERGENCY, mode)
    return {
        "blood_group": record.blood_group,
        "emergency_contacts": list(record.emergency_contacts or []),
        "advance_directives": record.advance_directives or "",
    }


# The mode an emergency session of each kind grants (emergency.py opens them); the record's
# accessMode may be stronger (a grant, say).
OPENED_MODE = {EmergencyKind.BREAK_GLASS: AccessMode.BREAK_GLASS,
               EmergencyKind.REGULATOR: AccessMode.EMERGENCY_REGULATOR}
# The kind of session each emergency mode comes from.
_EMERGENCY_KINDS = {mode: kind for kind, mode in OPENED_MODE.items()}


async def emergency_ends(ctx: Context, view: RecordView) -> dt.datetime | None:
    """When the caller's open emergency session behind the sections read in an emergency mode
    ends; None when none is. Not medical content: when the access the caller opened ends."""
    kinds = {_EMERGENCY_KINDS[m] for m in view.modes.values() if m in _EMERGENCY_KINDS}
    if not kinds or ctx.viewer.practitioner_id is None:
        return None
    session = await open_emergency_session(
        sql.default(), view.record.id, ctx.viewer.practitioner_id, kinds, clock.now()
    )
    return session.expires_at if session is not None else None


async def open_emergency_session(
    conn: Any, record_id: Any, practitioner_id: Any, kinds: Iterable[EmergencyKind], now: dt.datetime
) -> EmergencySession | None:
    """This practitioner's session of one of these kinds on the record still open at `now`
    (the one that lasts longest, should there be several); None when none is. A session ends
    by its time passing or, ended early (a block, an opposition, a closing, a deletion request,
    the patient's report of it as unjustified), by its end set to the moment it ended
    (`end_emergency_sessions`): `expires_at` after now is open, as the decision reads it. An
    acknowledgement ends nothing."""
    return (
        await EmergencySession.filter(
            record_id=record_id, practitioner_id=practitioner_id, kind__in=kinds, expires_at__gt=now
        )
        .using_db(conn)
        .order_by("-expires_at")
        .first()
    )


def emergency_minutes(kind: EmergencyKind) -> int:
    """How long an emergency access of this kind lasts, as configured."""
    cfg = settings()
    return cfg.regulator_minutes if kind == EmergencyKind.REGULATOR else cfg.break_glass_minutes


async def ended_by_report(record: Record, practitioner_id: Any, now: dt.datetime) -> EmergencyKind | None:
    """The kind of this practitioner's emergency access the patient's report ended, if that is
    why they have none now: of their sessions on the record, the one that ended last ended at
    its report (a report of an open access sets its end to the review's time, `reviewed_at`;
    history.review), and would still be open without it (its time, as configured, not run
    out). None otherwise: an access run out, or ended by a block, an opposition or a closing
    (ended before its report, if reported), or one still open."""
    if practitioner_id is None:
        return None
    last = (
        await EmergencySession.filter(record_id=record.id, practitioner_id=practitioner_id)
        .order_by("-expires_at")
        .first()
    )
    if (
        last is None
        or last.review_state != ReviewState.REPORTED
        or last.reviewed_at is None
        or last.expires_at != last.reviewed_at
        or last.expires_at > now
        or last.opened_at + dt.timedelta(minutes=emergency_minutes(last.kind)) <= now
    ):
        return None
    return EmergencyKind(last.kind)


def note_denied(ctx: Context, view: RecordView, sections: frozenset[Section] = frozenset()) -> None:
    """A practitioner's read of a record they have no access to at all, as a denied attempt.
    Where their emergency access was ended by the patient's report (`ended_by_report`) on a
    record still active that does not block them, the event says so: marked with that
    access's mode (an emergency in the history) and its reason. That is read as the event is
    written, not before the refusal (`complete_when_written`): a refusal runs the same
    statements before its answer's floor whether the record exists or not."""
    event = ctx.access_log.note(view.record.id, AccessAction.ACCESS_DENIED, sections=sections)
    if view.facts.status != RecordStatus.ACTIVE or view.sharing.blocked:
        return
    record, practitioner_id = view.record, ctx.viewer.practitioner_id

    async def say_why() -> None:
        kind = await ended_by_report(record, practitioner_id, clock.now())
        if kind is not None and not event.reason:
            event.mode = OPENED_MODE[kind]
            event.reason = reasons.ENDED_BY_REPORT

    ctx.access_log.complete_when_written(say_why)


async def end_emergency_sessions(
    conn: Any, record_id: Any, now: dt.datetime, *, practitioner_id: Any = None,
    kinds: Sequence[EmergencyKind] | None = None,
) -> None:
    """End the record's emergency sessions still open at `now` (of one practitioner, of some
    kinds): the record closed, a practitioner blocked, a kind opposed. Allowing again later
    does not bring them back."""
    sessions = EmergencySession.filter(record_id=record_id, expires_at__gt=now)
    if practitioner_id is not None:
        sessions = sessions.filter(practitioner_id=practitioner_id)
    if kinds is not None:
        sessions = sessions.filter(kind__in=kinds)
    await sessions.using_db(conn).update(expires_at=now)
