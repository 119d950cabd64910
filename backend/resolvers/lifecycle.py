"""The owner closes, reopens, deletes and un-deletes their record (DESIGN §2, Lifecycle)."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

from backend import clock
from backend.config import settings
from backend.domain.enums import AccessAction, AccessMode, RecordStatus, Role
from backend.errors import Conflict, Forbidden, NotFound, Unauthenticated
from backend.models import Account, Grant, Record
from backend.notify.notices import when
from backend.notify.outbox import enqueue_email
from backend.resolvers.auth import FRESH_REQUIRED
from backend.resolvers.context import Context
from backend.resolvers.records import (
    RecordView,
    end_emergency_sessions,
    own_record,
    patients_own_record,
    view_of,
)

RETENTION = dt.timedelta(days=3653)  # 10 years, leap days included
DELETION_GRACE = dt.timedelta(days=30)


@dataclass
class RecordState:
    """Where a record stands in its lifecycle; readable by the owner in every status."""

    record: Record

    @property
    def status(self) -> RecordStatus:
        return RecordStatus(self.record.status)

    @property
    def reopen_until(self) -> dt.datetime | None:
        closed_at = self.record.closed_at
        return closed_at + RETENTION if closed_at and self.status == RecordStatus.CLOSED else None

    @property
    def cancel_deletion_until(self) -> dt.datetime | None:
        requested = self.record.deletion_requested_at
        return requested + DELETION_GRACE if requested and self.status == RecordStatus.DELETED else None


async def _own_record(ctx: Context) -> Record:
    record = await patients_own_record(ctx, "Only the patient manages the lifecycle of their record")
    if record is None:
        raise NotFound("You have no record")
    return record


async def my_record_state(ctx: Context) -> RecordState | None:
    if not ctx.viewer.authenticated:
        raise Unauthenticated()
    if ctx.viewer.role != Role.PATIENT:
        return None
    record = await own_record(ctx.viewer.account_id)
    return RecordState(record) if record else None


@asynccontextmanager
async def _changing(ctx: Context, record: Record) -> AsyncIterator[tuple[Any, Record]]:
    """The change's transaction under the record's lock, with the record as it is there: every
    lifecycle change decides on that row, not on the one read before the lock, so a change
    that waited for another (a second tab, a purge) sees what it committed."""
    async with ctx.access_log.changing(record.id) as conn:
        current = await Record.filter(id=record.id).using_db(conn).first()
        if current is None or str(current.owner_id) != str(ctx.viewer.account_id):  # type: ignore[attr-defined]
            raise NotFound("You have no record")  # purged since it was read
        yield conn, current


async def _change(
    ctx: Context, conn: Any, record: Record, action: AccessAction, **changes: object
) -> None:
    """Write `changes` to the locked record, and its event in the same transaction."""
    await Record.filter(id=record.id).using_db(conn).update(**changes)
    await ctx.access_log.record_change(record.id, action, mode=AccessMode.OWNER)
    for name, value in changes.items():
        setattr(record, name, value)


async def close_record(ctx: Context) -> RecordView:
    """Close: practitioners lose all access, and grants are removed so they do not come back."""
    async with _changing(ctx, await _own_record(ctx)) as (conn, record):
        if record.status != RecordStatus.ACTIVE:
            raise Conflict("Only an active record can be closed")
        now = clock.now()
        await Grant.filter(record_id=record.id).using_db(conn).delete()
        await end_emergency_sessions(conn, record.id, now)
        await _change(ctx, conn, record, AccessAction.RECORD_CLOSED,
                      status=RecordStatus.CLOSED, closed_at=now, treating_physician_id=None)
    return await view_of(ctx, record)


async def reopen_record(ctx: Context) -> RecordView:
    async with _changing(ctx, await _own_record(ctx)) as (conn, record):
        state = RecordState(record)
        if state.status != RecordStatus.CLOSED:
            raise Conflict("Only a closed record can be reopened")
        if state.reopen_until is None or clock.now() >= state.reopen_until:
            raise Forbidden("A record closed more than 10 years ago cannot be reopened")
        await _change(ctx, conn, record, AccessAction.RECORD_REOPENED,
                      status=RecordStatus.ACTIVE, closed_at=None)
    return await view_of(ctx, record)


async def request_deletion(ctx: Context) -> RecordState:
    """Deletion asks for a second factor from the last minutes, as the account's security does."""
    own = await _own_record(ctx)
    if not ctx.viewer.fresh_factor:
        raise Forbidden(FRESH_REQUIRED)
    async with _changing(ctx, own) as (conn, record):
        if RecordStatus(record.status) not in (RecordStatus.ACTIVE, RecordStatus.CLOSED):
            raise Conflict("Deletion was already requested")
        # Practitioners lose their access; an emergency access ends, as when a record closes:
        # cancelling the deletion gives back the grants, not an emergency access without a reason.
        now = clock.now()
        await end_emergency_sessions(conn, record.id, now)
        await _change(ctx, conn, record, AccessAction.DELETION_REQUESTED,
                      status=RecordStatus.DELETED, deletion_requested_at=now)
        await _tell_deletion_requested(conn, record, now + DELETION_GRACE)
    return RecordState(record)


async def _tell_deletion_requested(conn: Any, record: Record, until: dt.datetime) -> None:
    """The patient is e-mailed, in the change's transaction: after 30 days everything is gone,
    and whoever asked (a session left open, with a code) may not be them. No medical content."""
    body = (
        "Bonjour,\n\n"
        "La suppression de votre dossier médical partagé a été demandée depuis votre espace.\n"
        f"Vous pouvez l'annuler jusqu'au {when(until)} : {settings().public_origin}/mon-compte\n"
        "Passé ce délai, le dossier et votre compte seront supprimés définitivement. D'ici là, "
        "vous pouvez aussi en télécharger une copie depuis la même page.\n\n"
        "Si vous n'êtes pas à l'origine de cette demande, annulez-la, changez votre mot de passe "
        "et contactez le support du DMP.\n"
    )
    await _tell_owner(conn, record, "DMP : suppression de votre dossier demandée", body)


async def _tell_owner(conn: Any, record: Record, subject: str, body: str) -> None:
    """An e-mail to the record's owner, queued in the change's transaction; none without an address."""
    owner = await Account.filter(id=record.owner_id).using_db(conn).first()  # type: ignore[attr-defined]
    if owner is not None and owner.email:
        await enqueue_email(owner.email, subject, body, account_id=owner.id, record_id=record.id,
                            using_db=conn)


async def cancel_deletion(ctx: Context) -> RecordState:
    """Back to the status before the request: CLOSED if it had been closed, else ACTIVE."""
    async with _changing(ctx, await _own_record(ctx)) as (conn, record):
        state = RecordState(record)
        if state.status != RecordStatus.DELETED:
            raise Conflict("No deletion is pending")
        if state.cancel_deletion_until is None or clock.now() >= state.cancel_deletion_until:
            raise Forbidden("The 30-day grace period is over; the deletion can no longer be cancelled")
        previous = RecordStatus.CLOSED if record.closed_at else RecordStatus.ACTIVE
        await _change(ctx, conn, record, AccessAction.DELETION_CANCELLED,
                      status=previous, deletion_requested_at=None)
        await _tell_deletion_cancelled(conn, record, previous)
    return RecordState(record)


async def _tell_deletion_cancelled(conn: Any, record: Record, status: RecordStatus) -> None:
    """The patient is e-mailed, as the request was: one who asked for the deletion learns it will
    not happen, and whoever cancelled it (a session left open) may not be them."""
    page = f"{settings().public_origin}/mon-compte"
    kept = ("Votre dossier est conservé, avec ses autorisations." if status == RecordStatus.ACTIVE
            else f"Votre dossier est conservé, fermé : vous pouvez le rouvrir sur {page}")
    body = (
        "Bonjour,\n\n"
        "La demande de suppression de votre dossier médical partagé a été annulée depuis votre "
        f"espace le {when(clock.now())}.\n{kept}\n\n"
        f"Si vous n'êtes pas à l'origine de cette annulation, demandez de nouveau la suppression sur "
        f"{page}, changez votre mot de passe et contactez le support du DMP.\n"
    )
    await _tell_owner(conn, record, "DMP : suppression de votre dossier annulée", body)
