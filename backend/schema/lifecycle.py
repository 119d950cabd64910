"""The record's lifecycle: close, reopen, request and cancel deletion (DESIGN §2)."""

from __future__ import annotations

import datetime as dt

import strawberry

from backend.resolvers import lifecycle
from backend.resolvers.context import Info
from backend.schema.record import PatientRecord
from backend.schema.types import RecordStatus


@strawberry.type(description="Where the patient's record stands; readable in every status.")
class RecordLifecycle:
    status: RecordStatus
    closed_at: dt.datetime | None
    reopen_until: dt.datetime | None
    deletion_requested_at: dt.datetime | None
    cancel_deletion_until: dt.datetime | None


def _lifecycle(state: lifecycle.RecordState) -> RecordLifecycle:
    return RecordLifecycle(
        status=state.status,
        closed_at=state.record.closed_at,
        reopen_until=state.reopen_until,
        deletion_requested_at=state.record.deletion_requested_at,
        cancel_deletion_until=state.cancel_deletion_until,
    )


@strawberry.type
class LifecycleQuery:
    @strawberry.field(description="The status of the patient's own record, also while deleted.")
    async def my_record_status(self, info: Info) -> RecordLifecycle | None:
        state = await lifecycle.my_record_state(info.context)
        return _lifecycle(state) if state else None


@strawberry.type
class LifecycleMutation:
    @strawberry.mutation(description="Close the record: practitioners lose access, grants are removed.")
    async def close_my_record(self, info: Info) -> PatientRecord | None:
        return PatientRecord(view=await lifecycle.close_record(info.context))

    @strawberry.mutation(description="Reopen a closed record (within 10 years of closing).")
    async def reopen_my_record(self, info: Info) -> PatientRecord | None:
        return PatientRecord(view=await lifecycle.reopen_record(info.context))

    @strawberry.mutation(
        description="Delete the record; it can be cancelled for 30 days. Needs a fresh second factor."
    )
    async def request_record_deletion(self, info: Info) -> RecordLifecycle:
        return _lifecycle(await lifecycle.request_deletion(info.context))

    @strawberry.mutation(description="Cancel a pending deletion; the record returns to its status.")
    async def cancel_record_deletion(self, info: Info) -> RecordLifecycle:
        return _lifecycle(await lifecycle.cancel_deletion(info.context))


QUERIES: tuple[type, ...] = (LifecycleQuery,)
MUTATIONS: tuple[type, ...] = (LifecycleMutation,)
