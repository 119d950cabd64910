"""Entries written by practitioners and patients, masking, deletion, the emergency profile."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass, field
from typing import Any

from backend import clock
from backend.auth import limits
from backend.auth.contacts import normalize_phone
from backend.authz.decision import may_write, sees_masked
from backend.domain.codes import InvalidCode, normalize_section_code
from backend.domain.details import DETAIL_FIELDS, OLDEST_CARE_DATE, InvalidDetails, normalize_details
from backend.domain.enums import AccessAction, AccessMode, EntrySource, RecordStatus, Role, Section
from backend.domain.ids import entry_id
from backend.domain.reasons import Reason
from backend.domain.text import lines, one_line
from backend.errors import BadUserInput, Conflict, Forbidden, NotFound, Unauthenticated
from backend.files import storage
from backend.models import Entry, Record, StoredFile
from backend.resolvers.arguments import ins_argument
from backend.resolvers.context import Context
from backend.resolvers.records import (
    RecordView,
    count_refusal,
    own_record,
    patients_own_record,
    record_by_ins,
    view_now,
    view_of,
)
from backend.resolvers.refusals import pending_deletion_reason, refused_write

BLOOD_GROUPS = frozenset({"A+", "A-", "B+", "B-", "AB+", "AB-", "O+", "O-"})
MAX_CONTACTS = 5
MAX_DIRECTIVES = 10_000

# Entries a patient or practitioner writes by hand (addEntry, a correction included, and
# uploadDocument) and emergency-profile changes, per account (a practitioner's partner tokens
# count with it), record and hour: one every six seconds into one record for a whole hour,
# which no one typing meets; a script adding entries a hundred a second filled a record until
# its export took seconds. Per record: a laboratory's or a practice's software writing results
# into many patients' records through one account meets it for none. The insurer's imports
# have their own bounds (MAX_ITEMS a batch).
MANUAL_WRITES_PER_HOUR = 600
TOO_MANY_WRITES = "Too many entries written this hour; try again later"


def _manual_write_key(ctx: Context, record_id: uuid.UUID) -> str:
    return f"entry-write:{ctx.viewer.account_id or ctx.viewer.token_id}:{record_id}"


async def count_manual_write(ctx: Context, record_id: uuid.UUID, conn: Any) -> None:
    """Count one hand-written change of the caller to this record this hour; RATE_LIMITED past
    MANUAL_WRITES_PER_HOUR (nothing written).

    Under the record's lock (`conn`, its `changing` transaction), once the change is decided
    and just before it is written: the count commits with the write, and a change refused
    under the lock (a correction that lost to another, a profile found already as sent) or
    failing after it is rolled back with it. (The counter's row is locked inside the record's;
    its key names the record, and nothing else takes it: no lock-order deadlock.)"""
    await limits.require(
        _manual_write_key(ctx, record_id), limits.utc_hour(), MANUAL_WRITES_PER_HOUR, TOO_MANY_WRITES,
        window=limits.HOUR, conn=conn,
    )


async def refuse_at_manual_write_bound(ctx: Context, record_id: uuid.UUID) -> None:
    """RATE_LIMITED if the caller's hand-written changes to this record already reached
    MANUAL_WRITES_PER_HOUR this hour: a look, counting nothing, before costly work (an upload's
    read and check); the count itself is `count_manual_write`'s, under the lock."""
    hour = limits.utc_hour()
    if await limits.at_bound(_manual_write_key(ctx, record_id), hour, MANUAL_WRITES_PER_HOUR):
        raise limits.rate_limited(hour, limits.HOUR, TOO_MANY_WRITES)


@dataclass
class NewEntry:
    section: Section
    title: str
    date: dt.date
    ins: str | None = None
    code: str | None = None
    supersedes: str | None = None
    # The structured sub-inputs given, by the section they belong to (camelCase keys).
    structured: list[tuple[Section, dict[str, Any]]] = field(default_factory=list)


def _require_viewer(ctx: Context) -> None:
    if not ctx.viewer.authenticated:
        raise Unauthenticated()


async def _target_record(ctx: Context, ins: str | None) -> Record:
    """The record a patient or practitioner writes to; FORBIDDEN alike if it does not exist."""
    viewer = ctx.viewer
    _require_viewer(ctx)
    normalized = ins_argument(ins) if ins is not None else None
    if viewer.role == Role.PATIENT:
        record = await own_record(viewer.account_id)
        if record is None or (normalized is not None and normalized != record.ins):
            raise Forbidden("You may only write to your own record")
        return record
    if viewer.role == Role.PRACTITIONER:
        if normalized is None:
            raise BadUserInput("ins is required", Reason.FIELD_REQUIRED, field="ins")
        # Read with its sharing facts, as patientRecord reads it: `view_of` then runs no
        # statement, and a refusal runs the same ones whether the INS names a record or not
        # (none is refused there, counted with refused reads).
        return await record_by_ins(ctx, normalized)
    raise Forbidden("Only patients and practitioners write to records")


def _check_date(day: dt.date, what: str = "date") -> None:
    if day > clock.latest_today():
        raise BadUserInput(f"{what} is in the future", Reason.DATE_IN_FUTURE, field=what)
    if day < OLDEST_CARE_DATE:
        raise BadUserInput(f"{what} is too far in the past", Reason.DATE_TOO_OLD, field=what)


def _visible_details(section: Section, raw: dict[str, Any]) -> dict[str, Any]:
    """The sub-input with its free-text fields cleaned as `one_line` or `lines`."""
    spec = DETAIL_FIELDS.get(section, {})
    clean = dict(raw)
    for key, value in raw.items():
        kind = spec.get(key, ("", 0))[0]
        if isinstance(value, str) and kind in ("str", "text"):
            clean[key] = one_line(value) if kind == "str" else lines(value)
    return clean


def _details(new: NewEntry, born: dt.date) -> dict[str, Any]:
    if len(new.structured) > 1:
        raise BadUserInput(
            "Give at most one structured sub-input, the one of the section", Reason.DETAILS_OF_OTHER_SECTION
        )
    if not new.structured:
        return {}
    section, raw = new.structured[0]
    if section != new.section:
        raise BadUserInput(
            f"The structured details given do not belong to {new.section.value}",
            Reason.DETAILS_OF_OTHER_SECTION,
        )
    try:
        return normalize_details(new.section, _visible_details(section, raw), clock.latest_today(), born=born)
    except InvalidDetails as exc:
        raise BadUserInput.refused(exc) from None


def _sees(view: RecordView, entry: Entry) -> bool:
    """Whether the entry exists for this viewer: its section readable, and if masked, one of
    those who see masked entries (DESIGN §3)."""
    mode = view.modes.get(Section(entry.section))
    if mode is None:
        return False
    return not entry.masked or sees_masked(view.viewer, mode, entry.author_id)  # type: ignore[attr-defined]


ALREADY_CORRECTED = "This entry was already corrected; correct its latest version"


async def superseded_entry(
    ctx: Context,
    view: RecordView,
    supersedes: str | None,
    section: Section,
    conn: Any = None,
    *,
    by_upload: bool = False,
) -> Entry | None:
    """The entry a new version (addEntry's, or `by_upload` uploadDocument's) corrects, as read
    in `conn` (under the record's lock, its `masked` is the one the correction takes: a masking
    committed meanwhile is seen). An entry that holds a file is corrected by an upload only:
    addEntry's version would hold none, and the document would no longer show."""
    if supersedes is None:
        return None
    unknown = BadUserInput(
        "supersedes is not an entry of this record", Reason.CORRECTION_UNKNOWN, field="supersedes"
    )
    try:
        old_id = uuid.UUID(str(supersedes))
    except ValueError:
        raise unknown from None
    old = await Entry.filter(id=old_id, record_id=view.record.id).using_db(conn).first()
    # An entry the caller may not see is answered as one that does not exist.
    if old is None or not _sees(view, old):
        raise unknown
    if old.author_id != ctx.viewer.account_id:  # type: ignore[attr-defined]
        raise Forbidden("Only the author of an entry may correct it")
    if old.section != section:
        raise BadUserInput(
            "A correction stays in the section of the entry it corrects", Reason.CORRECTION_OTHER_SECTION,
            field="supersedes",
        )
    if not by_upload and old.file_id is not None:  # type: ignore[attr-defined]
        raise BadUserInput(
            "A document is corrected by uploading its new version with uploadDocument(supersedes: …)",
            Reason.DOCUMENT_REPLACED_BY_UPLOAD,
        )
    if old.superseded:
        raise Conflict(ALREADY_CORRECTED)
    return old


async def claim_superseded(old: Entry, conn: Any) -> None:
    """Under the record's lock: `old` becomes superseded by the version being written; of two
    corrections of it sent at once, only the first does (the other is a CONFLICT)."""
    claimed = await Entry.filter(id=old.id, superseded=False).using_db(conn).update(superseded=True)
    if claimed != 1:
        raise Conflict(ALREADY_CORRECTED)


async def add_entry(ctx: Context, new: NewEntry) -> tuple[Entry, RecordView]:
    record = await _target_record(ctx, new.ins)
    view = await view_of(ctx, record)
    # Only to a caller with some access to the record: to anyone else, this answer told that
    # a record existed.
    if new.section == Section.EMERGENCY and view.modes:
        raise BadUserInput(
            "The emergency profile is changed with updateEmergencyProfile", Reason.EMERGENCY_PROFILE_SEPARATE
        )
    if not may_write(view.viewer, view.facts, view.sharing, new.section):
        await count_refusal(ctx)  # before the denied attempt is noted: past the bound, nothing
        raise refused_write(ctx, view, "You may not add entries to this section")
    title = one_line(new.title)
    if not title or len(title) > 300:
        raise BadUserInput.text("title must be 1 to 300 characters", title, "title", 300)
    _check_date(new.date)
    if new.date < record.birth_date:
        raise BadUserInput("date is before the patient's birth", Reason.DATE_BEFORE_BIRTH, field="date")
    try:
        code = normalize_section_code(new.section, new.code or "")
    except InvalidCode as exc:
        raise BadUserInput.refused(exc) from None
    details = _details(new, record.birth_date)
    old = await superseded_entry(ctx, view, new.supersedes, new.section)
    viewer = ctx.viewer
    async with ctx.access_log.changing(record.id) as conn:
        # Decided again under the record's lock: a closing, a revocation or a block that
        # committed since the first decision refuses the entry instead of letting it in.
        current = await view_now(ctx, record.id, conn)
        if current is None or not may_write(current.viewer, current.facts, current.sharing, new.section):
            raise refused_write(ctx, current or view, "You may not add entries to this section")
        view = current
        # Read again under the lock, which masking takes too: a correction of a masked entry
        # is masked, even if the mask committed after the first read.
        old = await superseded_entry(ctx, view, new.supersedes, new.section, conn)
        if old is not None:
            await claim_superseded(old, conn)
        # Once the entry is decided, in its transaction: a refused one is not counted.
        await count_manual_write(ctx, record.id, conn)
        entry = await Entry.create(
            using_db=conn,
            id=entry_id(after=old.id if old is not None else None),
            record_id=record.id,
            section=new.section,
            code=code,
            title=title,
            care_date=new.date,
            author_id=viewer.account_id,
            author_name=viewer.display_name,
            author_profession=viewer.profession.value if viewer.profession else None,
            source=EntrySource.PATIENT if view.is_owner else EntrySource.PRACTITIONER,
            details=details,
            masked=bool(old and old.masked),
            supersedes_id=old.id if old else None,
            created_at=clock.now(),
        )
        # The entry and its event commit together: no unrecorded change.
        await ctx.access_log.record_change(
            record.id, AccessAction.ENTRY_ADDED, mode=view.modes[new.section], sections={new.section},
            entry_id=str(entry.id),
        )
    return entry, view


# --- the owner's entries ----------------------------------------------------------------


async def owner_view(ctx: Context) -> RecordView:
    """The signed-in patient's own record, readable by them (ACTIVE or CLOSED)."""
    record = await patients_own_record(ctx, "Only the patient may do this")
    if record is None:
        raise NotFound("You have no record")
    view = await view_of(ctx, record)
    if not view.is_owner:
        raise Forbidden("Your record is not active", **pending_deletion_reason(view.facts.status))
    return view


async def _own_entry(ctx: Context, entry_id: str) -> tuple[Entry, RecordView]:
    view = await owner_view(ctx)
    try:
        key = uuid.UUID(str(entry_id))
    except ValueError:
        raise NotFound("No such entry") from None
    entry = await Entry.filter(id=key, record_id=view.record.id).first()
    if entry is None:
        raise NotFound("No such entry")
    return entry, view


async def _entry_now(entry: Entry, conn: Any) -> Entry:
    """The entry as it is under the record's lock; NOT_FOUND if it was deleted meanwhile."""
    now = await Entry.filter(id=entry.id).using_db(conn).first()
    if now is None:
        raise NotFound("No such entry")
    return now


async def _version_ids(entry: Entry, conn: Any) -> list[uuid.UUID]:
    """Every version of an entry: the corrections it went through and those made to it."""
    ids = [entry.id]
    previous = entry.supersedes_id  # type: ignore[attr-defined]
    while previous is not None and previous not in ids:
        ids.append(previous)
        rows = await Entry.filter(id=previous).using_db(conn).values_list("supersedes_id", flat=True)
        previous = uuid.UUID(str(rows[0])) if rows and rows[0] else None
    frontier = [entry.id]
    while frontier:
        later = await Entry.filter(supersedes_id__in=frontier).using_db(conn).values_list(
            "id", flat=True)
        frontier = [uuid.UUID(str(i)) for i in later if i not in ids]
        ids.extend(frontier)
    return ids


async def set_masked(ctx: Context, entry_id: str, masked: bool) -> tuple[Entry, RecordView]:
    """Mask or unmask an entry with all its versions, so no older version shows through."""
    entry, view = await _own_entry(ctx, entry_id)
    async with ctx.access_log.changing(view.record.id) as conn:
        # The versions are read under the record's lock, which a correction takes too: one
        # committed since the entry was read is among them, not left showing.
        entry = await _entry_now(entry, conn)
        ids = await _version_ids(entry, conn)
        changed = await Entry.filter(id__in=ids).using_db(conn).exclude(masked=masked).update(
            masked=masked)
        if changed:
            action = AccessAction.ENTRY_MASKED if masked else AccessAction.ENTRY_UNMASKED
            await ctx.access_log.record_change(view.record.id, action, mode=AccessMode.OWNER,
                                               sections={Section(entry.section)}, entry_id=str(entry.id))
    entry.masked = masked
    return entry, view


async def mask_all(ctx: Context) -> int:
    view = await owner_view(ctx)
    async with ctx.access_log.changing(view.record.id) as conn:
        query = Entry.filter(record_id=view.record.id, masked=False).using_db(conn)
        sections = set(await query.distinct().values_list("section", flat=True))
        count = await query.update(masked=True)
        if count:
            await ctx.access_log.record_change(view.record.id, AccessAction.ENTRY_MASKED,
                                               mode=AccessMode.OWNER,
                                               sections={Section(str(s)) for s in sections})
    return count


async def delete_entry(ctx: Context, entry_id: str) -> bool:
    """The patient deletes an entry they authored. Its versions stay one chain: the version
    that corrected it now corrects its predecessor, and if it was the current version, its
    predecessor is current again."""
    entry, view = await _own_entry(ctx, entry_id)
    if entry.author_id != ctx.viewer.account_id:  # type: ignore[attr-defined]
        raise Forbidden("You may only delete entries you added yourself")
    async with ctx.access_log.changing(view.record.id) as conn:
        # The chain as it is under the record's lock, which corrections take too.
        entry = await _entry_now(entry, conn)
        previous = entry.supersedes_id  # type: ignore[attr-defined]
        # Relinked before the row goes: the foreign key would set the next one's to NULL.
        relinked = await Entry.filter(supersedes_id=entry.id).using_db(conn).update(
            supersedes_id=previous)
        if not relinked and previous is not None:
            await Entry.filter(id=previous).using_db(conn).update(superseded=False)
        # Only the request that removes the row deletes the entry: the others, sent at the same
        # moment, find no entry, as after the deletion, and write no event. (SQLite's count
        # takes in the rows a foreign key's action changed too: any is a deletion.)
        if not await Entry.filter(id=entry.id).using_db(conn).delete():
            raise NotFound("No such entry")
        if entry.file_id:  # type: ignore[attr-defined]
            # Dropping the row drops the wrapped key: the stored bytes become unreadable.
            await StoredFile.filter(id=entry.file_id).using_db(conn).delete()  # type: ignore[attr-defined]
        await ctx.access_log.record_change(view.record.id, AccessAction.ENTRY_DELETED,
                                           mode=AccessMode.OWNER, sections={Section(entry.section)},
                                           entry_id=str(entry.id))
    if entry.file_id:  # type: ignore[attr-defined]
        storage.discard(entry.file_id, "a deleted entry")  # type: ignore[attr-defined]
    return True


# --- the emergency profile --------------------------------------------------------------


@dataclass
class EmergencyUpdate:
    ins: str | None = None
    blood_group: str | None = None
    contacts: list[dict[str, str | None]] | None = None
    advance_directives: str | None = None


def _contacts(raw: list[dict[str, str | None]]) -> list[dict[str, str | None]]:
    if len(raw) > MAX_CONTACTS:
        raise BadUserInput(
            f"At most {MAX_CONTACTS} emergency contacts", Reason.TOO_MANY_CONTACTS, max=MAX_CONTACTS
        )
    clean: list[dict[str, str | None]] = []
    for contact in raw:
        name = one_line(contact.get("name") or "")
        phone = normalize_phone(contact.get("phone") or "")
        relation = one_line(contact.get("relation") or "") or None
        if not name or len(name) > 200:
            raise BadUserInput.text(
                "An emergency contact needs a name (at most 200 characters)", name,
                "emergencyContacts.name", 200,
            )
        if phone is None:
            # The value is not repeated: the caller has it, and it may be anything, of any size.
            raise BadUserInput(
                "An emergency contact's phone is not a phone number",
                Reason.INVALID_PHONE, field="emergencyContacts.phone",
            )
        if relation is not None and len(relation) > 100:
            raise BadUserInput(
                "relation is at most 100 characters",
                Reason.FIELD_TOO_LONG, field="emergencyContacts.relation", max=100,
            )
        clean.append({"name": name, "phone": phone, "relation": relation})
    return clean


PROFILE_EDITORS = "Only the patient or their treating physician edit this profile"


def _profile_mode(view: RecordView) -> AccessMode | None:
    """The mode in which this viewer edits the emergency profile; None if they may not: the
    owner of an ACTIVE record, or its treating physician."""
    mode = view.modes.get(Section.EMERGENCY)
    if mode == AccessMode.OWNER and view.facts.status == RecordStatus.ACTIVE:
        return mode
    return mode if mode == AccessMode.TREATING_PHYSICIAN else None


async def update_emergency_profile(ctx: Context, update: EmergencyUpdate) -> RecordView:
    """The owner of an ACTIVE record, or its treating physician, edits the emergency profile."""
    record = await _target_record(ctx, update.ins)
    view = await view_of(ctx, record)
    if _profile_mode(view) is None:
        await count_refusal(ctx)  # before the denied attempt is noted: past the bound, nothing
        raise refused_write(ctx, view, PROFILE_EDITORS)
    changes: dict[str, Any] = {}
    if update.blood_group is not None:
        group = update.blood_group.strip().upper()
        if group and group not in BLOOD_GROUPS:
            raise BadUserInput(
                "bloodGroup must be one of " + ", ".join(sorted(BLOOD_GROUPS)), Reason.FIELD_INVALID,
                field="bloodGroup",
            )
        changes["blood_group"] = group or None
    if update.contacts is not None:
        changes["emergency_contacts"] = _contacts(update.contacts)
    if update.advance_directives is not None:
        text = lines(update.advance_directives)
        if len(text) > MAX_DIRECTIVES:
            raise BadUserInput(
                f"advanceDirectives is at most {MAX_DIRECTIVES} characters", Reason.FIELD_TOO_LONG,
                field="advanceDirectives", max=MAX_DIRECTIVES,
            )
        changes["advance_directives"] = text
    if changes:
        async with ctx.access_log.changing(record.id) as conn:
            # Decided again under the record's lock, as addEntry does: a physician replaced or
            # a record closed since the first decision refuses the change.
            current = await view_now(ctx, record.id, conn)
            mode = _profile_mode(current) if current is not None else None
            if current is None or mode is None:
                raise refused_write(ctx, current or view, PROFILE_EDITORS)
            view = current
            # Compared with the profile as it is under the lock: the same values sent again (a
            # retry, a double click, at once) change nothing and write no event.
            if any(getattr(current.record, name) != value for name, value in changes.items()):
                await count_manual_write(ctx, record.id, conn)  # only a change written is counted
                await Record.filter(id=record.id).using_db(conn).update(**changes)
                await ctx.access_log.record_change(record.id, AccessAction.EMERGENCY_PROFILE_UPDATED,
                                                   mode=mode, sections={Section.EMERGENCY})
        for name, value in changes.items():
            setattr(view.record, name, value)
    return view
