"""The patient's sharing choices: grants, blocks, treating physician, emergency preferences."""

from __future__ import annotations

import datetime as dt
import unicodedata
import uuid
from dataclasses import dataclass
from typing import Any

from tortoise.expressions import Q

from backend import clock
from backend.accounts import directory_text
from backend.audit import reasons
from backend.authz.matrix import allowed_sections
from backend.domain.enums import (
    AccessAction,
    AccessMode,
    EmergencyKind,
    Profession,
    RecordStatus,
    Role,
    Section,
)
from backend.domain.identifiers import RPPS_DIGITS, InvalidIdentifier, normalize_rpps
from backend.domain.reasons import Reason
from backend.errors import BadUserInput, Forbidden, NotFound, Unauthenticated
from backend.models import BlockedPractitioner, Grant, Practitioner, Record
from backend.resolvers.context import Context
from backend.resolvers.records import end_emergency_sessions, patients_own_record
from backend.resolvers.refusals import pending_deletion_reason

DIRECTORY_LIMIT = 50
SEARCH_MIN = 2
SEARCH_MAX = 100


@dataclass(frozen=True)
class PractitionerInfo:
    id: uuid.UUID
    display_name: str
    profession: Profession
    rpps: str
    city: str


@dataclass(frozen=True)
class GrantInfo:
    practitioner: PractitionerInfo
    sections: list[Section]
    since: dt.datetime


@dataclass(frozen=True)
class Sharing:
    grants: list[GrantInfo]
    treating_physician: PractitionerInfo | None
    blocked: list[PractitionerInfo]
    allow_regulator_access: bool
    allow_break_glass: bool
    notify_new_documents: bool


def info_of(practitioner: Practitioner) -> PractitionerInfo:
    """Needs `account` fetched (select_related)."""
    return PractitionerInfo(
        id=practitioner.id,
        display_name=practitioner.account.display_name,
        profession=Profession(practitioner.profession),
        rpps=practitioner.rpps,
        city=practitioner.city,
    )


def _in_matrix_order(sections: set[Section] | frozenset[Section]) -> list[Section]:
    return [s for s in Section if s in sections]


async def sharing_of(record: Record) -> Sharing:
    """The record's sharing state, in three queries."""
    grants = (
        await Grant.filter(record_id=record.id)
        .select_related("practitioner__account")
        .order_by("created_at", "id")
    )
    blocks = (
        await BlockedPractitioner.filter(record_id=record.id)
        .select_related("practitioner__account")
        .order_by("created_at", "id")
    )
    treating = None
    if record.treating_physician_id is not None:  # type: ignore[attr-defined]
        physician = (
            await Practitioner.filter(id=record.treating_physician_id)  # type: ignore[attr-defined]
            .select_related("account")
            .first()
        )
        treating = info_of(physician) if physician else None
    return Sharing(
        grants=[
            GrantInfo(
                practitioner=info_of(g.practitioner),
                sections=_in_matrix_order({Section(s) for s in g.sections}),
                since=g.created_at,
            )
            for g in grants
        ],
        treating_physician=treating,
        blocked=[info_of(b.practitioner) for b in blocks],
        allow_regulator_access=record.allow_regulator,
        allow_break_glass=record.allow_break_glass,
        notify_new_documents=record.notify_new_documents,
    )


async def my_sharing(ctx: Context) -> Sharing | None:
    viewer = ctx.viewer
    if not viewer.authenticated:
        raise Unauthenticated()
    if viewer.role != Role.PATIENT:
        return None
    record = await Record.filter(
        owner_id=viewer.account_id, status__in=[RecordStatus.ACTIVE, RecordStatus.CLOSED]
    ).first()
    return await sharing_of(record) if record else None


async def _owned_active_record(ctx: Context) -> Record:
    """The signed-in patient's record; sharing changes need it ACTIVE."""
    record = await patients_own_record(ctx, "Only the patient manages the sharing of their record")
    if record is None or record.status != RecordStatus.ACTIVE:
        raise Forbidden(NOT_ACTIVE, **pending_deletion_reason(record and record.status))
    return record


async def _practitioner(practitioner_id: str) -> Practitioner:
    try:
        pid = uuid.UUID(str(practitioner_id))
    except ValueError:
        raise BadUserInput("Invalid practitioner id", Reason.INVALID_ID, field="practitionerId") from None
    # Only Practitioner rows are looked up: support and patient accounts are never found here.
    practitioner = (
        await Practitioner.filter(id=pid, account__role=Role.PRACTITIONER)
        .select_related("account")
        .first()
    )
    if practitioner is None:
        raise NotFound("No such practitioner")
    return practitioner


NOT_ACTIVE = "Your record must be active to change its sharing"


async def _is_blocked(record: Record, practitioner: Practitioner, conn: Any) -> bool:
    return await BlockedPractitioner.filter(
        record_id=record.id, practitioner_id=practitioner.id
    ).using_db(conn).exists()


async def _still_active(record: Record, conn: Any) -> Record:
    """The record as it is now, read under its lock (`changing`): the checks made before the
    lock was taken are made again on it, as a concurrent change may have committed since."""
    current = await Record.filter(id=record.id).using_db(conn).first()
    if current is None or current.status != RecordStatus.ACTIVE:
        raise Forbidden(NOT_ACTIVE, **pending_deletion_reason(current and current.status))
    return current


def _refuse_blocked() -> BadUserInput:
    return BadUserInput("This practitioner is blocked; unblock them first", Reason.PRACTITIONER_BLOCKED)


def _refuse_treating_physician() -> BadUserInput:
    return BadUserInput(
        "This is your treating physician: change your treating physician first",
        Reason.IS_TREATING_PHYSICIAN,
    )


async def _changed(
    ctx: Context, record: Record, reason: str, sections: frozenset[Section] = frozenset()
) -> None:
    """The event of a sharing change, written in the change's transaction (`changing`)."""
    await ctx.access_log.record_change(
        record.id, AccessAction.SHARING_CHANGED, mode=AccessMode.OWNER, sections=sections, reason=reason
    )


def _who(practitioner: Practitioner) -> str:
    return reasons.professional(
        practitioner.account.display_name, Profession(practitioner.profession), practitioner.rpps
    )


async def grant_access(ctx: Context, practitioner_id: str, sections: list[Section]) -> Sharing:
    record = await _owned_active_record(ctx)
    practitioner = await _practitioner(practitioner_id)
    wanted = frozenset(sections)
    if not wanted:
        raise BadUserInput("Choose at least one section, or revoke the access", Reason.NO_SECTION_CHOSEN)
    refused = wanted - allowed_sections(Profession(practitioner.profession))
    if refused:
        names = ", ".join(s.value for s in _in_matrix_order(refused))
        raise BadUserInput(
            f"A {practitioner.profession} may not see these sections: {names}",
            Reason.SECTIONS_NOT_ALLOWED,
            profession=practitioner.profession,
            sections=[s.value for s in _in_matrix_order(refused)],
        )
    values = [s.value for s in _in_matrix_order(wanted)]
    async with ctx.access_log.changing(record.id) as conn:
        # The record's lock, taken first, makes concurrent changes of one record wait here;
        # a block or a closing that committed meanwhile is seen now.
        await _still_active(record, conn)
        if await _is_blocked(record, practitioner, conn):
            raise _refuse_blocked()
        existing = await Grant.filter(record_id=record.id, practitioner_id=practitioner.id).using_db(
            conn
        ).first()
        # The same sections again (a double click, a retry, sent at once): compared under the
        # lock, nothing changes and no event is written.
        if existing is None or {Section(s) for s in existing.sections} != wanted:
            if existing is not None:
                await Grant.filter(id=existing.id).using_db(conn).update(sections=values)
            else:
                await Grant.create(record_id=record.id, practitioner_id=practitioner.id, sections=values,
                                   using_db=conn)
            await _changed(ctx, record, reasons.granted(_who(practitioner)), wanted)
    return await sharing_of(record)


async def revoke_access(ctx: Context, practitioner_id: str) -> Sharing:
    record = await _owned_active_record(ctx)
    practitioner = await _practitioner(practitioner_id)
    async with ctx.access_log.changing(record.id) as conn:
        await _still_active(record, conn)  # a closing committed meanwhile refuses it, as a grant
        deleted = await Grant.filter(record_id=record.id, practitioner_id=practitioner.id).using_db(
            conn).delete()
        if deleted:
            await _changed(ctx, record, reasons.revoked(_who(practitioner)))
    return await sharing_of(record)


async def block_practitioner(ctx: Context, practitioner_id: str) -> Sharing:
    record = await _owned_active_record(ctx)
    practitioner = await _practitioner(practitioner_id)
    async with ctx.access_log.changing(record.id) as conn:
        current = await _still_active(record, conn)
        if current.treating_physician_id == practitioner.id:  # type: ignore[attr-defined]
            raise _refuse_treating_physician()
        await Grant.filter(record_id=record.id, practitioner_id=practitioner.id).using_db(conn).delete()
        await end_emergency_sessions(conn, record.id, clock.now(), practitioner_id=practitioner.id)
        _, created = await BlockedPractitioner.get_or_create(
            record_id=record.id, practitioner_id=practitioner.id, using_db=conn
        )
        if created:
            await _changed(ctx, record, reasons.blocked(_who(practitioner)))
    return await sharing_of(record)


async def unblock_practitioner(ctx: Context, practitioner_id: str) -> Sharing:
    record = await _owned_active_record(ctx)
    practitioner = await _practitioner(practitioner_id)
    async with ctx.access_log.changing(record.id) as conn:
        await _still_active(record, conn)  # a closing committed meanwhile refuses it, as a block
        deleted = await BlockedPractitioner.filter(
            record_id=record.id, practitioner_id=practitioner.id
        ).using_db(conn).delete()
        if deleted:
            await _changed(ctx, record, reasons.unblocked(_who(practitioner)))
    return await sharing_of(record)


async def set_treating_physician(ctx: Context, practitioner_id: str | None) -> Sharing:
    record = await _owned_active_record(ctx)
    if practitioner_id is None:
        if record.treating_physician_id is not None:  # type: ignore[attr-defined]
            async with ctx.access_log.changing(record.id) as conn:
                # Compared again under the lock: the same change sent twice at once is one event.
                if (await _still_active(record, conn)).treating_physician_id is not None:  # type: ignore[attr-defined]
                    await Record.filter(id=record.id).using_db(conn).update(treating_physician_id=None)
                    await _changed(ctx, record, reasons.PHYSICIAN_REMOVED)
            record.treating_physician_id = None
        return await sharing_of(record)
    practitioner = await _practitioner(practitioner_id)
    if practitioner.profession != Profession.MEDECIN:
        raise BadUserInput(
            "The treating physician must be a doctor (medecin)", Reason.TREATING_PHYSICIAN_NOT_DOCTOR
        )
    if record.treating_physician_id != practitioner.id:  # type: ignore[attr-defined]
        async with ctx.access_log.changing(record.id) as conn:
            current = await _still_active(record, conn)
            if await _is_blocked(record, practitioner, conn):
                raise _refuse_blocked()
            if current.treating_physician_id != practitioner.id:  # type: ignore[attr-defined]
                await Record.filter(id=record.id).using_db(conn).update(treating_physician_id=practitioner.id)
                await _changed(ctx, record, reasons.physician_set(_who(practitioner)))
        record.treating_physician_id = practitioner.id
    return await sharing_of(record)


async def set_emergency_preferences(
    ctx: Context, allow_regulator_access: bool, allow_break_glass: bool
) -> Sharing:
    record = await _owned_active_record(ctx)
    wanted = (allow_regulator_access, allow_break_glass)
    if (record.allow_regulator, record.allow_break_glass) != wanted:
        async with ctx.access_log.changing(record.id) as conn:
            current = await _still_active(record, conn)
            if (current.allow_regulator, current.allow_break_glass) == wanted:
                return await sharing_of(current)  # the same change, committed meanwhile
            await Record.filter(id=record.id).using_db(conn).update(
                allow_regulator=allow_regulator_access, allow_break_glass=allow_break_glass
            )
            kinds = ((EmergencyKind.REGULATOR, allow_regulator_access),
                     (EmergencyKind.BREAK_GLASS, allow_break_glass))
            opposed = [kind for kind, allowed in kinds if not allowed]
            if opposed:  # the accesses of the kinds now opposed end
                await end_emergency_sessions(conn, record.id, clock.now(), kinds=opposed)
            await _changed(
                ctx, record, reasons.emergency_preferences(allow_regulator_access, allow_break_glass)
            )
        record.allow_regulator = allow_regulator_access
        record.allow_break_glass = allow_break_glass
    return await sharing_of(record)


async def set_notification_preferences(ctx: Context, notify_new_documents: bool) -> Sharing:
    """Whether the patient is e-mailed when a document is added to their record (DESIGN §4:
    optional; off until they ask). A preference of their mailbox, not of who sees what: no
    event in the history."""
    record = await _owned_active_record(ctx)
    if record.notify_new_documents != notify_new_documents:
        # Kept only if the record is still active as it is written, as every sharing change:
        # a closing or a deletion request committed since the check refuses it.
        kept = await Record.filter(id=record.id, status=RecordStatus.ACTIVE).update(
            notify_new_documents=notify_new_documents
        )
        if not kept:
            now = await Record.filter(id=record.id).values_list("status", flat=True)
            raise Forbidden(NOT_ACTIVE, **pending_deletion_reason(now[0] if now else None))
        record.notify_new_documents = notify_new_documents
    return await sharing_of(record)


async def practitioner_directory(ctx: Context, search: str) -> list[PractitionerInfo]:
    """Practitioners matching every word of the search; never support or patient accounts.

    For patients, practitioners and practitioners' apps: an insurer's token imports and
    nothing else (docs/api.md §1), names and RPPS numbers included."""
    viewer = ctx.viewer
    if not viewer.authenticated:
        raise Unauthenticated()
    if viewer.role == Role.INSURER or (viewer.token_id is not None and "practitioner" not in viewer.scopes):
        raise Forbidden("The directory needs a session or a token with the practitioner scope")
    text = directory_text(search)  # as the practitioners' search texts are built
    if len(text) < SEARCH_MIN:
        raise BadUserInput(
            f"Type at least {SEARCH_MIN} characters", Reason.FIELD_TOO_SHORT, field="search", min=SEARCH_MIN
        )
    if len(text) > SEARCH_MAX:
        raise BadUserInput(
            f"Type at most {SEARCH_MAX} characters", Reason.FIELD_TOO_LONG, field="search", max=SEARCH_MAX
        )
    words = text.split(" ")[:5]
    for word in words:
        # A number of 11 digits or more can only be an RPPS number (names and cities are
        # separate words): one that is not valid is told, not searched for and found nowhere.
        if len(word) >= RPPS_DIGITS and word.isascii() and word.isdigit():
            try:
                normalize_rpps(word)
            except InvalidIdentifier as exc:
                raise BadUserInput(str(exc), Reason.INVALID_RPPS, field="search") from None
    # A practitioner whose account an operator disabled (`dmp disable-account`: struck off, or
    # their account stolen) is no longer offered to patients.
    query = Practitioner.filter(account__role=Role.PRACTITIONER, account__disabled_at=None)
    for word in words:
        # Search texts written before names were stored composed may hold them decomposed:
        # kept as stored, and found.
        decomposed = unicodedata.normalize("NFD", word)
        query = query.filter(
            Q(search_text__contains=word) | Q(search_text__contains=decomposed)
            if decomposed != word else Q(search_text__contains=word)
        )
    rows = (
        await query.select_related("account")
        .order_by("account__last_name", "account__first_name", "rpps")
        .limit(DIRECTORY_LIMIT)
    )
    return [info_of(p) for p in rows]
