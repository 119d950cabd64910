"""PatientRecord and the record queries (DESIGN §6)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

import strawberry
from graphql import FieldNode
from strawberry.permission import PermissionExtension

from backend.authz.permissions import SectionVisible
from backend.domain import enums
from backend.resolvers import records
from backend.resolvers.context import Info
from backend.resolvers.pagination import encode_entry_cursor
from backend.resolvers.records import RecordView
from backend.schema.types import AccessMode, Entry, RecordStatus, Section, made_of, to_entry


@strawberry.type
class PageInfo:
    has_next_page: bool
    end_cursor: str | None


def _edge_cursor(self) -> str:  # type: ignore[no-untyped-def]
    # Encoded only when asked for: a consultation's edges often select the node alone. From
    # the node's values (its id already as text), which are the entry's date and id.
    node = self.node
    return encode_entry_cursor(node.date, node.id)


@strawberry.type
class EntryEdge:
    cursor: str = strawberry.field(resolver=_edge_cursor)
    node: Entry


@strawberry.type
class EntryConnection:
    edges: list[EntryEdge]
    page_info: PageInfo
    _page: strawberry.Private[records.EntryPage]

    @strawberry.field
    async def total_count(self) -> int:
        return await self._page.total_count()


@strawberry.type
class SectionAccess:
    section: Section
    mode: AccessMode


@strawberry.type
class EmergencyContact:
    name: str
    phone: str
    relation: str | None


@strawberry.type
class EmergencyProfile:
    blood_group: str | None
    emergency_contacts: list[EmergencyContact]
    advance_directives: str


def _connection(page: records.EntryPage) -> EntryConnection:
    show_masked = page.view.is_owner
    entries = page.entries
    edges = [made_of(EntryEdge, {"node": to_entry(e, show_masked)}) for e in entries]
    return EntryConnection(
        edges=edges,
        page_info=PageInfo(
            has_next_page=page.has_next_page, end_cursor=records.cursor_of(entries[-1]) if entries else None
        ),
        _page=page,
    )


def _asks_total_count(info: Info) -> bool:
    """Whether `totalCount` is selected directly on this connection field.

    Read from the field's syntax nodes: strawberry's `selected_fields` converts the whole
    subtree on each call. A `totalCount` inside a fragment is not seen here; it is then
    counted by a statement of its own when resolved (EntryPage.total_count).
    """
    for node in info._raw_info.field_nodes:
        for child in node.selection_set.selections if node.selection_set else ():
            if isinstance(child, FieldNode) and child.name.value == "totalCount":
                return True
    return False


def _section_field(section: enums.Section, description: str):  # type: ignore[no-untyped-def]
    async def resolve(
        root: PatientRecord,
        info: Info,
        first: int = 20,
        after: str | None = None,
        include_superseded: bool = False,
    ) -> EntryConnection | None:
        # Count in the page's statement only when the client asked for totalCount.
        wants_total = _asks_total_count(info)
        page = await records.section_page(
            info.context, root.view, section, first, after, include_superseded, count=wants_total
        )
        return _connection(page)

    return strawberry.field(
        resolver=resolve,
        description=description,
        extensions=[PermissionExtension([SectionVisible(section)], fail_silently=True)],
    )


@strawberry.type
class PatientRecord:
    view: strawberry.Private[RecordView]

    @strawberry.field
    def ins(self) -> str:
        return self.view.record.ins

    @strawberry.field
    def first_name(self) -> str:
        return self.view.record.first_name

    @strawberry.field
    def last_name(self) -> str:
        return self.view.record.last_name

    @strawberry.field
    def birth_date(self) -> dt.date:
        return self.view.record.birth_date

    @strawberry.field
    def status(self) -> RecordStatus:
        return enums.RecordStatus(self.view.record.status)

    @strawberry.field(description="The strongest mode that allowed any section.")
    def access_mode(self) -> AccessMode | None:
        return self.view.access_mode

    @strawberry.field
    def section_access(self) -> list[SectionAccess]:
        return [SectionAccess(section=s, mode=m) for s, m in self.view.modes.items()]

    @strawberry.field
    def accessible_sections(self) -> list[Section]:
        return list(self.view.modes)

    @strawberry.field(
        description="When the caller's emergency access to this record (break-glass or SAMU "
        "regulator) ends; null when sectionAccess shows no section in an emergency mode (with a grant "
        "and an emergency access both open, given even if the request reads only granted sections)."
    )
    async def emergency_expires_at(self, info: Info) -> dt.datetime | None:
        return await records.emergency_ends(info.context, self.view)

    medications = _section_field(enums.Section.MEDICATIONS, "Dispensed or prescribed medicines")
    medical_devices = _section_field(enums.Section.MEDICAL_DEVICES, "Medical devices")
    procedures = _section_field(enums.Section.PROCEDURES, "Medical procedures (actes)")
    imaging = _section_field(enums.Section.IMAGING, "Imaging procedures and reports")
    lab_results = _section_field(enums.Section.LAB_RESULTS, "Biology / lab results")
    hospital_stays = _section_field(enums.Section.HOSPITAL_STAYS, "Hospital stays")
    medical_history = _section_field(enums.Section.MEDICAL_HISTORY, "Antecedents")
    allergies = _section_field(enums.Section.ALLERGIES, "Allergies and intolerances")
    vaccinations = _section_field(enums.Section.VACCINATIONS, "Vaccinations")
    documents = _section_field(enums.Section.DOCUMENTS, "Reports, certificates, documents")

    @strawberry.field(
        extensions=[PermissionExtension([SectionVisible(enums.Section.EMERGENCY)], fail_silently=True)]
    )
    def emergency_profile(self, info: Info) -> EmergencyProfile | None:
        data = records.emergency_profile(info.context, self.view)
        contacts = [
            EmergencyContact(
                name=str(c.get("name", "")), phone=str(c.get("phone", "")), relation=c.get("relation")
            )
            for c in data["emergency_contacts"]
            if isinstance(c, dict)
        ]
        return EmergencyProfile(
            blood_group=data["blood_group"],
            emergency_contacts=contacts,
            advance_directives=data["advance_directives"],
        )


@strawberry.type
class RecordQuery:
    @strawberry.field(description="The signed-in patient's own record.")
    async def my_record(self, info: Info) -> PatientRecord | None:
        view = await records.my_record(info.context)
        return PatientRecord(view=view) if view else None

    @strawberry.field(
        description="A practitioner's view of a patient's record; FORBIDDEN when nothing is shared."
    )
    async def patient_record(
        self, info: Info, ins: Annotated[str, strawberry.argument(description="INS/NIR")]
    ) -> PatientRecord | None:
        return PatientRecord(view=await records.patient_record(info.context, ins))


QUERIES: tuple[type, ...] = (RecordQuery,)
MUTATIONS: tuple[type, ...] = ()
