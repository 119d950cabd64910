"""The access history and the emergency review, as the patient sees them (DESIGN §4, §6)."""

from __future__ import annotations

import datetime as dt

import strawberry

from backend.domain import enums
from backend.models import AccessEvent, EmergencySession
from backend.resolvers import history
from backend.resolvers.context import Info
from backend.resolvers.pagination import MAX_FIRST
from backend.schema.record import PageInfo
from backend.schema.types import AccessAction, AccessMode, EmergencyKind, ReviewState, Section


@strawberry.type
class AccessEventNode:
    id: strawberry.ID = strawberry.field(
        description="Opaque and stable: the same event has the same id in every answer and in both"
        " exports (the FHIR AuditEvent's id); unique across records. seq orders the events."
    )
    seq: int
    at: dt.datetime
    actor_id: strawberry.ID | None = strawberry.field(
        description="The actor's account id; filter.actorId takes it, or a practitioner id."
    )
    actor_name: str
    actor_profession: str | None
    actor_role: str
    action: AccessAction
    mode: AccessMode | None
    sections: list[Section]
    entry_id: str | None
    reason: str
    emergency: bool = strawberry.field(description="A break-glass or regulator access: shown apart.")
    _event: strawberry.Private[AccessEvent]
    _page: strawberry.Private[history.HistoryPage]

    @strawberry.field(
        description="The entry's current title, for the record's owner; null when the event names no"
        " entry or the entry was deleted, and while the record's deletion is pending. Read when"
        " asked, for the whole page at once: the history itself keeps no title."
    )
    async def entry_title(self) -> str | None:
        return await self._page.entry_title(self._event)


@strawberry.type
class AccessEventEdge:
    cursor: str
    node: AccessEventNode


@strawberry.type
class AccessEventConnection:
    edges: list[AccessEventEdge]
    page_info: PageInfo
    _page: strawberry.Private[history.HistoryPage]

    @strawberry.field
    async def total_count(self) -> int:
        return await self._page.total_count()


@strawberry.input
class AccessHistoryFilter:
    from_: dt.datetime | None = strawberry.field(default=None, name="from")
    to: dt.datetime | None = None
    actor_id: strawberry.ID | None = None
    actions: list[AccessAction] | None = None
    modes: list[AccessMode] | None = None


@strawberry.type
class EmergencyAccessReview:
    id: strawberry.ID
    kind: EmergencyKind
    practitioner_id: strawberry.ID = strawberry.field(
        description="The practitioner who opened the access, as `blockPractitioner` and `mySharing`"
        " name them."
    )
    practitioner_name: str
    profession: str
    opened_at: dt.datetime
    expires_at: dt.datetime = strawberry.field(
        description="When the access ends, or ended: its time run out, or ended early (a report,"
        " a block, an opposition, the record closed or its deletion requested)."
    )
    reason: str
    review_state: ReviewState


@strawberry.type
class EmergencyAccessReviewEdge:
    cursor: str
    node: EmergencyAccessReview


@strawberry.type
class EmergencyAccessReviewConnection:
    edges: list[EmergencyAccessReviewEdge]
    page_info: PageInfo
    _page: strawberry.Private[history.EmergencyPage]

    @strawberry.field(description="Every emergency access of the record, whatever the page.")
    async def total_count(self) -> int:
        return await self._page.total_count()


# The stored values' members, looked up (an enum's call is several times slower): 50 events
# a page, each with an action, a mode and its sections.
_ACTIONS = {a.value: a for a in enums.AccessAction}
_MODES = {m.value: m for m in enums.AccessMode}
_SECTIONS = {s.value: s for s in enums.Section}


def _node(event: AccessEvent, page: history.HistoryPage) -> AccessEventNode:
    return AccessEventNode(
        id=strawberry.ID(history.id_of(event)),
        seq=event.seq,
        at=event.at,
        actor_id=strawberry.ID(event.actor_id) if event.actor_id else None,
        actor_name=event.actor_name,
        actor_profession=event.actor_profession,
        actor_role=event.actor_role,
        action=_ACTIONS.get(event.action) or enums.AccessAction(event.action),
        mode=(_MODES.get(event.mode) or enums.AccessMode(event.mode)) if event.mode else None,
        sections=[_SECTIONS.get(s) or enums.Section(s) for s in event.sections or []],
        entry_id=event.entry_id,
        reason=event.reason,
        emergency=history.is_emergency(event),
        _event=event,
        _page=page,
    )


def _review(session: EmergencySession) -> EmergencyAccessReview:
    practitioner = session.practitioner
    return EmergencyAccessReview(
        id=strawberry.ID(str(session.id)),
        kind=enums.EmergencyKind(session.kind),
        practitioner_id=strawberry.ID(str(practitioner.id)),
        practitioner_name=practitioner.account.display_name,
        profession=enums.Profession(practitioner.profession).value,
        opened_at=session.opened_at,
        expires_at=session.expires_at,
        reason=session.reason,
        review_state=enums.ReviewState(session.review_state),
    )


@strawberry.type
class HistoryQuery:
    @strawberry.field(description="The patient's access history, newest first.")
    async def my_access_history(
        self,
        info: Info,
        first: int = 20,
        after: str | None = None,
        filter: AccessHistoryFilter | None = None,  # noqa: A002 — the contract's name
    ) -> AccessEventConnection:
        f = None
        if filter is not None:
            f = history.HistoryFilter(
                start=filter.from_,
                end=filter.to,
                actor_id=str(filter.actor_id) if filter.actor_id is not None else None,
                actions=[enums.AccessAction(a) for a in filter.actions or []],
                modes=[enums.AccessMode(m) for m in filter.modes or []],
            )
        page = await history.my_access_history(info.context, first, after, f)
        edges = [AccessEventEdge(cursor=history.cursor_of(e), node=_node(e, page)) for e in page.events]
        return AccessEventConnection(
            edges=edges,
            page_info=PageInfo(
                has_next_page=page.has_next_page, end_cursor=edges[-1].cursor if edges else None
            ),
            _page=page,
        )

    @strawberry.field(
        description=(
            f"Break-glass and regulator accesses to review, newest first: the {history.EMERGENCY_LIST_MAX}"
            " newest; myEmergencyAccessReviews pages through them all."
        )
    )
    async def my_emergency_accesses(self, info: Info) -> list[EmergencyAccessReview]:
        return [_review(s) for s in await history.my_emergency_accesses(info.context)]

    @strawberry.field(
        description=(
            "Break-glass and regulator accesses to review, newest first, in pages"
            f" (first: at most {MAX_FIRST})."
        )
    )
    async def my_emergency_access_reviews(
        self, info: Info, first: int = 20, after: str | None = None
    ) -> EmergencyAccessReviewConnection:
        page = await history.my_emergency_access_page(info.context, first, after)
        edges = [
            EmergencyAccessReviewEdge(cursor=history.review_cursor_of(s), node=_review(s))
            for s in page.sessions
        ]
        return EmergencyAccessReviewConnection(
            edges=edges,
            page_info=PageInfo(
                has_next_page=page.has_next_page, end_cursor=edges[-1].cursor if edges else None
            ),
            _page=page,
        )


@strawberry.type
class HistoryMutation:
    @strawberry.mutation(
        description="The patient agrees an emergency access was justified (CONFLICT once they reported it)."
    )
    async def acknowledge_emergency_access(self, info: Info, id: strawberry.ID) -> EmergencyAccessReview:  # noqa: A002
        session = await history.review_emergency_access(
            info.context, str(id), enums.ReviewState.ACKNOWLEDGED
        )
        return _review(session)

    @strawberry.mutation(
        description=(
            "The patient reports an emergency access as unjustified, also one they acknowledged;"
            " an access still open ends at once (its expiresAt becomes the report's time)."
        )
    )
    async def report_emergency_access(
        self, info: Info, id: strawberry.ID, comment: str | None = None  # noqa: A002
    ) -> EmergencyAccessReview:
        session = await history.review_emergency_access(
            info.context, str(id), enums.ReviewState.REPORTED, comment
        )
        return _review(session)


QUERIES: tuple[type, ...] = (HistoryQuery,)
MUTATIONS: tuple[type, ...] = (HistoryMutation,)
