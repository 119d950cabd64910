"""Sharing: grants, blocks, the treating physician, emergency preferences (DESIGN §3, §6)."""

from __future__ import annotations

import datetime as dt

import strawberry

from backend.authz.matrix import allowed_sections
from backend.domain import enums
from backend.resolvers import sharing
from backend.resolvers.context import Info
from backend.schema.types import Section


@strawberry.type
class PractitionerInfo:
    id: strawberry.ID
    display_name: str
    profession: str
    rpps: str
    city: str
    allowed_sections: list[Section] = strawberry.field(
        description="The sections a patient may share with this practitioner: those their "
        "profession may see (docs/profession-matrix.md). A grant of any other is refused."
    )


@strawberry.type
class GrantInfo:
    practitioner: PractitionerInfo
    sections: list[Section]
    since: dt.datetime


@strawberry.type
class Sharing:
    grants: list[GrantInfo]
    treating_physician: PractitionerInfo | None
    blocked: list[PractitionerInfo]
    allow_regulator_access: bool
    allow_break_glass: bool
    notify_new_documents: bool = strawberry.field(
        description="Whether the patient is e-mailed when a document is added to the record."
    )


@strawberry.type
class SharingPayload:
    sharing: Sharing


def practitioner_info(p: sharing.PractitionerInfo) -> PractitionerInfo:
    return PractitionerInfo(
        id=strawberry.ID(str(p.id)),
        display_name=p.display_name,
        profession=p.profession.value,
        rpps=p.rpps,
        city=p.city,
        allowed_sections=[section for section in enums.Section if section in allowed_sections(p.profession)],
    )


def sharing_type(s: sharing.Sharing) -> Sharing:
    return Sharing(
        grants=[
            GrantInfo(practitioner=practitioner_info(g.practitioner), sections=g.sections, since=g.since)
            for g in s.grants
        ],
        treating_physician=practitioner_info(s.treating_physician) if s.treating_physician else None,
        blocked=[practitioner_info(p) for p in s.blocked],
        allow_regulator_access=s.allow_regulator_access,
        allow_break_glass=s.allow_break_glass,
        notify_new_documents=s.notify_new_documents,
    )


def _payload(s: sharing.Sharing) -> SharingPayload:
    return SharingPayload(sharing=sharing_type(s))


@strawberry.type
class SharingQuery:
    @strawberry.field(description="The signed-in patient's sharing choices.")
    async def my_sharing(self, info: Info) -> Sharing | None:
        s = await sharing.my_sharing(info.context)
        return sharing_type(s) if s else None

    @strawberry.field(
        description="Practitioners matching every word of `search` (at least 2 characters); at most 50."
    )
    async def practitioner_directory(self, info: Info, search: str) -> list[PractitionerInfo]:
        return [practitioner_info(p) for p in await sharing.practitioner_directory(info.context, search)]


@strawberry.type
class SharingMutation:
    @strawberry.mutation(
        description="Grant a practitioner these sections (replaces the sections of an existing grant)."
    )
    async def grant_access(
        self, info: Info, practitioner_id: strawberry.ID, sections: list[Section]
    ) -> SharingPayload:
        return _payload(await sharing.grant_access(info.context, practitioner_id, sections))

    @strawberry.mutation(description="Withdraw a practitioner's grant.")
    async def revoke_access(self, info: Info, practitioner_id: strawberry.ID) -> SharingPayload:
        return _payload(await sharing.revoke_access(info.context, practitioner_id))

    @strawberry.mutation(description="Block a practitioner: no access at all, emergency included.")
    async def block_practitioner(self, info: Info, practitioner_id: strawberry.ID) -> SharingPayload:
        return _payload(await sharing.block_practitioner(info.context, practitioner_id))

    @strawberry.mutation(description="Lift a block.")
    async def unblock_practitioner(self, info: Info, practitioner_id: strawberry.ID) -> SharingPayload:
        return _payload(await sharing.unblock_practitioner(info.context, practitioner_id))

    @strawberry.mutation(description="Name the treating physician (a medecin); null clears it.")
    async def set_treating_physician(
        self, info: Info, practitioner_id: strawberry.ID | None
    ) -> SharingPayload:
        return _payload(await sharing.set_treating_physician(info.context, practitioner_id))

    @strawberry.mutation(description="Allow or oppose emergency access (SAMU regulator, break-glass).")
    async def set_emergency_preferences(
        self, info: Info, allow_regulator_access: bool, allow_break_glass: bool
    ) -> SharingPayload:
        return _payload(
            await sharing.set_emergency_preferences(info.context, allow_regulator_access, allow_break_glass)
        )

    @strawberry.mutation(description="Be e-mailed, or not, when a document is added to one's record.")
    async def set_notification_preferences(self, info: Info, notify_new_documents: bool) -> SharingPayload:
        return _payload(await sharing.set_notification_preferences(info.context, notify_new_documents))


QUERIES: tuple[type, ...] = (SharingQuery,)
MUTATIONS: tuple[type, ...] = (SharingMutation,)
