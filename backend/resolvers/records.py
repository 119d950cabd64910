"""Reading a record: the viewer's decisions per section, and pages of entries."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from tortoise.expressions import Q, Subquery
from tortoise.functions import Count

from backend.authz.decision import (
    DENY,
    Decision,
    RecordFacts,
    SharingFacts,
    ViewerFacts,
    section_modes,
    sees_masked,
    strongest,
)
from backend.domain.enums import AccessAction, AccessMode, RecordStatus, Role, Section
from backend.errors import Forbidden, Unauthenticated
from backend.models import Entry, Record
from backend.resolvers.arguments import ins_argument
from backend.resolvers.context import Context
from backend.resolvers.pagination import check_first, decode_entry_cursor, encode_entry_cursor


def record_facts(record: Record) -> RecordFacts:
    return RecordFacts(
        status=RecordStatus(record.status),
        owner_id=record.owner_id,  # type: ignore[attr-defined]
        treating_physician_id=record.treating_physician_id,  # type: ignore[attr-defined]
        allow_regulator=record.allow_regulator,
        allow_break_glass=record.allow_break_glass,
    )


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
        return Decision(True, mode) if mode is not None else DENY

    @property
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


async def my_record(ctx: Context) -> RecordView | None:
    viewer = ctx.viewer
    if not viewer.authenticated:
        raise Unauthenticated()
    if viewer.role != Role.PATIENT:
        return None
    record = await Record.filter(owner_id=viewer.account_id).first()
    if record is None:
        return None
    view = await view_of(ctx, record)
    return view if view.modes else None


async def patient_record(ctx: Context, ins: str) -> RecordView:
    """A practitioner's view; FORBIDDEN alike whether the INS exists or not."""
    viewer = ctx.viewer
    if not viewer.authenticated:
        raise Unauthenticated()
    record = await Record.filter(ins=ins_argument(ins)).first()
    if record is None:
        raise Forbidden("No access to this record")
    view = await view_of(ctx, record)
    if not view.modes:
        # A denied attempt on an existing record is an event, whatever its status (DESIGN §4).
        ctx.access_log.note(record.id, AccessAction.ACCESS_DENIED)
        raise Forbidden("No access to this record")
    if not view.is_owner:
        # Opening a record reads its identity: an event even if no section is asked for.
        ctx.access_log.note(record.id, AccessAction.RECORD_READ, mode=view.access_mode)
    return view


@dataclass
class EntryPage:
    entries: list[Entry]
    has_next_page: bool
    view: RecordView
    section: Section
    filters: Q
    # Counted by the page's own query (a subquery), so totalCount costs no extra statement.
    known_total: int | None = None

    async def total_count(self) -> int:
        if self.known_total is not None:
            return self.known_total
        return await Entry.filter(self.filters).count()


def visibility_filter(view: RecordView, section: Section) -> Q:
    """Entries of one section this viewer may see; masked rows filtered in SQL."""
    q = Q(record_id=view.record.id, section=section)
    mode = view.modes.get(section)
    if sees_masked(view.viewer, mode, None):
        return q
    if view.viewer.account_id is not None:
        return q & (Q(masked=False) | Q(author_id=view.viewer.account_id))
    return q & Q(masked=False)


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
    """A page of one section; with `count`, the total comes from the same statement."""
    first = check_first(first)
    mode = view.modes[section]
    filters = visibility_filter(view, section)
    if not include_superseded:
        filters &= Q(superseded=False)
    query = Entry.filter(filters)
    if after:
        date, entry_id = decode_entry_cursor(after)
        query = query.filter(Q(care_date__lt=date) | Q(care_date=date, id__lt=entry_id))
    known_total: int | None = None
    if count:
        total = Subquery(Entry.filter(filters).annotate(visible_total=Count("id")).values("visible_total"))
        query = query.annotate(visible_total=total)
    rows = await query.order_by("-care_date", "-id").limit(first + 1)
    ctx.access_log.section_returned(view.record.id, section, mode)
    if count:
        known_total = int(rows[0].visible_total) if rows else (0 if not after else None)  # type: ignore[attr-defined]
    return EntryPage(rows[:first], len(rows) > first, view, section, filters, known_total)


def cursor_of(entry: Entry) -> str:
    return encode_entry_cursor(entry.care_date, entry.id)


def emergency_profile(ctx: Context, view: RecordView) -> dict[str, Any]:
    record = view.record
    ctx.access_log.section_returned(
        record.id, Section.EMERGENCY, view.modes.get(Section.EMERGENCY) or AccessMode.GRANTED
    )
    return {
        "blood_group": record.blood_group,
        "emergency_contacts": list(record.emergency_contacts or []),
        "advance_directives": record.advance_directives or "",
    }
