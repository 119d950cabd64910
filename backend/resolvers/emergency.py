"""Emergency access: break-glass and the SAMU regulator (DESIGN §3 rules 9-10)."""

from __future__ import annotations

import datetime as dt
import unicodedata
import uuid
from dataclasses import dataclass

from tortoise.backends.base.client import BaseDBAsyncClient

from backend import clock
from backend.audit import reasons
from backend.auth import limits
from backend.authz.decision import SharingFacts
from backend.config import settings
from backend.domain.enums import AccessAction, AccessMode, EmergencyKind, Profession, RecordStatus, Role
from backend.domain.reasons import Reason
from backend.domain.text import one_line
from backend.errors import BadUserInput, NoAccess, Unauthenticated
from backend.models import Account, EmergencySession, Record
from backend.notify.notices import when
from backend.notify.outbox import enqueue_email
from backend.resolvers.arguments import ins_argument
from backend.resolvers.context import Context
from backend.resolvers.records import (
    OPENED_MODE,
    RecordView,
    emergency_minutes,
    open_emergency_session,
    owns,
    record_facts,
    view_now,
    view_of,
)

REASON_MIN = 10
REASON_MAX = 2000
# One message for every refusal, so the answer never tells whether the INS exists.
REFUSED = "Emergency access is not possible for this record"

OPENED_ACTION = {
    EmergencyKind.BREAK_GLASS: AccessAction.BREAK_GLASS_OPENED,
    EmergencyKind.REGULATOR: AccessAction.REGULATOR_ACCESS,
}
# Openings per practitioner and hour, counted before the record is looked up (refused ones
# too, and calls answered by the session already open: whether one is open is known only under
# the record's lock, and counting every call keeps the answer alike whether the record exists).
# Above any pace of care one person keeps: a regulator takes a call in minutes, and 120 is one
# every 30 seconds for an hour; an emergency physician rarely breaks the glass more than a few
# times an hour, 30 allows one every two minutes through an influx of casualties. They stop a
# stolen account or token from opening records by the thousand.
PER_HOUR = {EmergencyKind.BREAK_GLASS: 30, EmergencyKind.REGULATOR: 120}
# Attempts per hour of a caller who may not open that kind at all (support, a patient, an
# insurer, a practitioner who is no regulator), both kinds together: each on an existing record
# is a denied emergency attempt in its history, and without a bound one account would fill a
# patient's history with them at will. Counted before the record is looked up, as openings are.
REFUSED_CALLER_PER_HOUR = 10
TOO_MANY = "Too many emergency accesses opened this hour; try again later"
TOO_MANY_ATTEMPTS = "Too many emergency access attempts this hour; try again later"
NOT_PRACTITIONER = "Emergency access is for practitioners"
NOT_REGULATOR = "Regulator access is for SAMU regulators"
KIND_TEXT = {
    EmergencyKind.BREAK_GLASS: "un accès d'urgence (bris de glace)",
    EmergencyKind.REGULATOR: "un accès d'urgence du SAMU (régulation)",
}


@dataclass
class EmergencyAccess:
    view: RecordView
    expires_at: dt.datetime
    mode: AccessMode


def _opposed(record: Record, kind: EmergencyKind) -> bool:
    if kind == EmergencyKind.REGULATOR:
        return not record.allow_regulator
    return not record.allow_break_glass


def _note_refused(ctx: Context, record: Record, kind: EmergencyKind) -> None:
    """A refused emergency attempt, in the record's history as the emergency it tried to be:
    marked with the mode the opening would have granted (so `emergency` in the history)."""
    ctx.access_log.note(
        record.id, AccessAction.ACCESS_DENIED, mode=OPENED_MODE[kind], reason=reasons.EMERGENCY_REFUSED
    )


def _refuse_if_closed_to(ctx: Context, record: Record, sharing: SharingFacts, kind: EmergencyKind) -> None:
    """NoAccess, written as a denied attempt, when the record is not active, blocks this
    practitioner or opposes this kind: before the record's lock, and again under it."""
    if record.status != RecordStatus.ACTIVE or sharing.blocked or _opposed(record, kind):
        _note_refused(ctx, record, kind)
        raise NoAccess(REFUSED)


async def _refuse_caller(ctx: Context, ins: str, kind: EmergencyKind, message: str) -> NoAccess:
    """The refusal of a caller who may not open this kind at all (not a practitioner, not a
    regulator): a denied attempt on an existing record, but for its owner's own; the same
    words and time whether the INS names a record or not (errors.NoAccess). Raises
    RATE_LIMITED past REFUSED_CALLER_PER_HOUR attempts this hour, before the lookup: nothing
    written."""
    try:
        normalized = ins_argument(ins)
    except BadUserInput:
        return NoAccess(message)
    viewer = ctx.viewer
    key = f"emergency-refused:{viewer.account_id or viewer.token_id}"
    await limits.require(
        key, limits.utc_hour(), REFUSED_CALLER_PER_HOUR, TOO_MANY_ATTEMPTS, window=limits.HOUR
    )
    record = await Record.filter(ins=normalized).first()
    if record is not None and not owns(ctx.viewer.account_id, record_facts(record)):
        _note_refused(ctx, record, kind)
    return NoAccess(message)


async def _count_opening(practitioner_id: uuid.UUID, kind: EmergencyKind) -> None:
    """RATE_LIMITED past PER_HOUR openings of this kind by this practitioner this hour."""
    await limits.require(
        f"emergency:{kind.value}:{practitioner_id}", limits.utc_hour(), PER_HOUR[kind], TOO_MANY,
        window=limits.HOUR,
    )


async def open_emergency(ctx: Context, ins: str, reason: str, kind: EmergencyKind) -> EmergencyAccess:
    viewer = ctx.viewer
    if not viewer.authenticated:
        raise Unauthenticated()
    if viewer.role != Role.PRACTITIONER or viewer.practitioner_id is None:
        raise await _refuse_caller(ctx, ins, kind, NOT_PRACTITIONER)
    if kind == EmergencyKind.REGULATOR and not viewer.is_regulator:
        raise await _refuse_caller(ctx, ins, kind, NOT_REGULATOR)
    # Stored as the patient will read it, in their history and review list: without controls
    # and format characters (direction overrides, zero-width), which would make it read
    # otherwise than it is, on one line. The limits count this text.
    reason = one_line(reason)
    # At least REASON_MIN characters as they show, spaces aside: a combining mark (an accent
    # typed after its letter) is part of its letter, so « é » counts once however it was typed.
    if sum(1 for c in reason if unicodedata.category(c)[0] not in "CZM") < REASON_MIN:
        raise BadUserInput(
            f"State the reason for the emergency access (at least {REASON_MIN} characters)",
            Reason.FIELD_TOO_SHORT, field="reason", min=REASON_MIN,
        )
    if len(reason) > REASON_MAX:
        raise BadUserInput(
            f"The reason is limited to {REASON_MAX} characters",
            Reason.FIELD_TOO_LONG, field="reason", max=REASON_MAX,
        )
    normalized = ins_argument(ins)
    # Counted before the record is looked up: the limit answers alike whether it exists. A
    # call that the session already open will answer counts too.
    await _count_opening(viewer.practitioner_id, kind)
    record = await Record.filter(ins=normalized).first()
    if record is None:
        raise NoAccess(REFUSED)
    _refuse_if_closed_to(ctx, record, await ctx.loaders.sharing.load(record.id), kind)

    async with ctx.access_log.changing(record.id) as conn:
        # Under the record's lock, as it is now: a block, an opposition or a closing that
        # committed since the checks above had no session to end, so it is refused here.
        current = await view_now(ctx, record.id, conn)
        if current is None:  # purged meanwhile
            raise NoAccess(REFUSED)
        _refuse_if_closed_to(ctx, current.record, current.sharing, kind)
        # The time once the lock is held: a session ended while this call waited for it ended
        # before this moment, so it is not taken for an open one.
        now = clock.now()
        session = await open_emergency_session(conn, record.id, viewer.practitioner_id, [kind], now)
        if session is not None:
            # The same emergency asked again (a double submit, a retry after a timeout, two
            # calls at once): the access this practitioner opened is still open, and is
            # answered as it stands, with its own end. No second session, opening event or
            # notice; this call's reason is not kept (the session keeps its own).
            expires_at = session.expires_at
        else:
            expires_at = now + dt.timedelta(minutes=emergency_minutes(kind))
            await EmergencySession.create(
                using_db=conn,
                id=uuid.uuid4(),
                record_id=record.id,
                practitioner_id=viewer.practitioner_id,
                kind=kind,
                reason=reason,
                opened_at=now,
                expires_at=expires_at,
            )
            await _notify_owner(record, kind, viewer.display_name, viewer.profession, now, expires_at, conn)
            # The opening and its event commit together: no emergency session goes unrecorded.
            await ctx.access_log.record_change(
                record.id, OPENED_ACTION[kind], mode=OPENED_MODE[kind], reason=reason
            )
    # The payload's record goes through the decision with the session now open; its sections
    # are written as any read in that mode (RECORD_READ), whether this call opened it or not.
    ctx.loaders.sharing.clear(record.id)
    # The record as read under the lock (its status then), with the sharing read again.
    view = await view_of(ctx, current.record)
    if not view.modes:
        # A block, an opposition or a closing committed since the opening ended it: the
        # payload would be the record's identity with no section. Refused as any opening the
        # record no longer allows (the opening and its end are both in the history).
        raise NoAccess(REFUSED)
    if session is not None:
        # Answered by the access already open: no opening event, but the payload reads the
        # record's identity, as `patientRecord` does: an event even if no section is asked for.
        ctx.access_log.note(record.id, AccessAction.RECORD_READ, mode=view.access_mode)
    mode = OPENED_MODE[kind]
    return EmergencyAccess(view=view, expires_at=expires_at, mode=mode)


async def _notify_owner(
    record: Record,
    kind: EmergencyKind,
    who: str,
    profession: Profession | None,
    at: dt.datetime,
    ends: dt.datetime,
    conn: BaseDBAsyncClient,
) -> None:
    """One e-mail, at once: who, when, until when, which kind, a link; no reason text, nothing
    medical. The access is still open as the patient reads it: a report ends it."""
    owner_id = record.owner_id  # type: ignore[attr-defined]
    if owner_id is None:
        return
    emails = await Account.filter(id=owner_id).using_db(conn).values_list("email", flat=True)
    email = emails[0] if emails else None
    if not email:
        return
    job = f" ({profession.label})" if profession else ""
    body = (
        "Bonjour,\n\n"
        f"Un professionnel de santé a ouvert {KIND_TEXT[kind]} à votre dossier médical partagé :\n"
        f"- qui : {who}{job}\n"
        f"- quand : le {when(at)}\n"
        f"- fin de l'accès : le {when(ends)}\n\n"
        f"Consultez l'historique des accès, où vous pouvez confirmer ou signaler cet accès : "
        f"{settings().public_origin}/historique\n"
        "Le signaler met fin à cet accès s'il est encore ouvert.\n"
    )
    await enqueue_email(
        str(email),
        "DMP : accès d'urgence à votre dossier",
        body,
        account_id=owner_id,
        record_id=record.id,
        using_db=conn,
    )
