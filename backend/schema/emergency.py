"""Emergency access: break-glass and the SAMU regulator (DESIGN §3, §6)."""

from __future__ import annotations

import datetime as dt

import strawberry

from backend.domain.enums import EmergencyKind
from backend.resolvers import emergency
from backend.resolvers.context import Info
from backend.schema.record import PatientRecord
from backend.schema.types import AccessMode


@strawberry.type
class EmergencyAccessPayload:
    record: PatientRecord = strawberry.field(
        description="The record as the access decision now lets you read it (read-only)."
    )
    expires_at: dt.datetime
    mode: AccessMode = strawberry.field(
        description="The mode this opening grants; record.accessMode may be stronger (a grant)."
    )


def _payload(access: emergency.EmergencyAccess) -> EmergencyAccessPayload:
    return EmergencyAccessPayload(
        record=PatientRecord(view=access.view), expires_at=access.expires_at, mode=access.mode
    )


@strawberry.type
class EmergencyMutation:
    @strawberry.mutation(
        description="Break-glass: emergency read access, with a justification; the patient is told."
    )
    async def open_break_glass(self, info: Info, ins: str, reason: str) -> EmergencyAccessPayload:
        return _payload(
            await emergency.open_emergency(info.context, ins, reason, EmergencyKind.BREAK_GLASS)
        )

    @strawberry.mutation(
        description="SAMU regulator emergency read access, with a reason; the patient is told."
    )
    async def regulator_access(self, info: Info, ins: str, reason: str) -> EmergencyAccessPayload:
        return _payload(
            await emergency.open_emergency(info.context, ins, reason, EmergencyKind.REGULATOR)
        )


QUERIES: tuple[type, ...] = ()
MUTATIONS: tuple[type, ...] = (EmergencyMutation,)
