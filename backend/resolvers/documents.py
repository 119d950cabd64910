"""Uploading documents into a record, and the access decision of a download (DESIGN §2, §3, §6)."""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import re
import unicodedata
import uuid
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Protocol

from starlette.datastructures import UploadFile
from tortoise.models import Model

from backend import clock, sql
from backend.auth import limits
from backend.authz.decision import may_write, sees_masked
from backend.authz.loaders import sharing_columns, sharing_join, sharing_params
from backend.config import settings
from backend.domain.enums import AccessAction, AccessMode, EntrySource, Role, Section
from backend.domain.ids import entry_id
from backend.domain.reasons import Reason
from backend.domain.text import lines, one_line
from backend.errors import BadUserInput, Forbidden, NoAccess, NotFound, Unauthenticated
from backend.files import storage
from backend.files.sniffing import EXTENSIONS, UnrecognisedContent, sniff
from backend.models import Entry, Record, StoredFile
from backend.notify.notices import notify_new_document
from backend.per_loop import per_loop
from backend.resolvers.arguments import ins_argument
from backend.resolvers.content import (
    claim_superseded,
    count_manual_write,
    refuse_at_manual_write_bound,
    superseded_entry,
)
from backend.resolvers.context import Context
from backend.resolvers.history import EMERGENCY_MODES
from backend.resolvers.records import (
    NO_ACCESS,
    RecordView,
    count_refusal,
    note_denied,
    own_record,
    record_by_ins,
    view_from_row,
    view_now,
    view_of,
)
from backend.resolvers.refusals import owner_pending_deletion, pending_deletion_reason, refused_write

log = logging.getLogger("dmp.documents")

# To the owner of a record waiting for its deletion, which is neither read nor changed during
# its 30 days (DESIGN §2, §3 rule 2): the words of the state they chose, not an access denied.
PENDING_DELETION_UPLOAD = (
    "Your record is pending deletion: no document can be added to it. Cancel the deletion to add one."
)
PENDING_DELETION_DOWNLOAD = (
    "Your record is pending deletion: its documents cannot be opened. Cancel the deletion to open"
    " them; your export stays available."
)

MAX_MB = 20
MAX_BYTES = MAX_MB * 1024 * 1024
TOO_LARGE = f"The file is too large: documents may be at most {MAX_MB} MB"
CHUNK_BYTES = 1024 * 1024
# Sections whose entries may carry a file; both are writable by the patient too.
FILE_SECTIONS = frozenset({Section.DOCUMENTS, Section.LAB_RESULTS})
# Files refused as not accepted (not a PDF, PNG or JPEG, or a PDF with scripts) per account (a
# practitioner's partner tokens count with the account; an insurer's token on its own) and
# hour: a person sends a wrong file a few times; each may have cost seconds to check. Past
# them, RATE_LIMITED before the file is checked.
FILES_REFUSED_PER_HOUR = 20
TOO_MANY_REFUSED_FILES = (
    f"More than {FILES_REFUSED_PER_HOUR} files were refused this hour: try again later with a PDF, "
    "JPEG or PNG document"
)
# Files checked at once in a process (each holds the interpreter while it runs).
CHECKS_AT_ONCE = 2
_checks = per_loop(lambda: asyncio.Semaphore(CHECKS_AT_ONCE))


class UploadedFile(Protocol):
    """What a GraphQL multipart upload gives the resolver (starlette's UploadFile)."""

    filename: str | None

    async def read(self, size: int = -1) -> bytes: ...

    async def seek(self, offset: int) -> None: ...


@dataclass(frozen=True)
class DocumentInput:
    section: Section
    ins: str | None
    title: str
    document_type: str | None
    description: str | None
    date: dt.date | None
    # The entry this upload is a new version of (its corrections' rules: content.py).
    supersedes: str | None = None


# --- upload --------------------------------------------------------------------------


async def upload_document(ctx: Context, file: UploadedFile, data: DocumentInput) -> tuple[Entry, bool]:
    """Store an encrypted document as a new entry; returns it and whether the viewer owns the record."""
    if not isinstance(file, UploadFile):
        # The Upload scalar takes any JSON value: a string or an object sent in place of a file
        # part of a multipart request is refused before anything is read.
        raise BadUserInput(
            "file must be a file part of a GraphQL multipart request", Reason.FILE_NOT_ACCEPTED, field="file"
        )
    view = await _writable_view(ctx, data)
    title, document_type, description, care_date = _checked_fields(data)
    # Checked before the file is read, and again under the record's lock (`_store`).
    await superseded_entry(ctx, view, data.supersedes, data.section, by_upload=True)
    # Past the bound on entries written by hand, refused before the file is read and checked
    # (seconds, for some PDFs); counted under the record's lock (`_store`), once it is written.
    await refuse_at_manual_write_bound(ctx, view.record.id)
    # From its start: the multipart map may give one file part to several uploads of the
    # request, each reading it whole. Its spooled file is closed with the request
    # (graphql_view), not here, where a later upload of the request would find it closed.
    await file.seek(0)
    content = await _read_limited(file)
    # Checking a file may take seconds of the process (a PDF of 100,000 objects, built to be
    # slow, is refused after 6 s): an account's refused files are bounded. Each check counts
    # first, as a refusal, atomically (uploads sent at once cannot all pass the bound), and is
    # given back when the file is accepted.
    refused_key, hour = f"file-refused:{ctx.viewer.account_id or ctx.viewer.token_id}", limits.utc_hour()
    await limits.require(
        refused_key, hour, FILES_REFUSED_PER_HOUR, TOO_MANY_REFUSED_FILES, window=limits.HOUR
    )
    try:
        # A pure-Python walk over up to 20 MB: in a thread, as the encryption is; two at a time
        # in a process, so that uploads sent at once queue rather than starve its event loop.
        async with _checks():
            content_type = await asyncio.to_thread(sniff, content)
    except UnrecognisedContent as exc:
        raise BadUserInput(
            f"{exc}. Accepted: PDF, JPEG or PNG, up to 20 MB.", Reason.FILE_NOT_ACCEPTED
        ) from None
    except BaseException:
        await limits.give_back(refused_key, hour)  # not refused as a file: a fault, a cancellation
        raise
    await limits.give_back(refused_key, hour)
    filename = safe_filename(file.filename, content_type)
    # A record already full is refused before the file is encrypted and written; checked
    # again under the record's lock (`_store`), where uploads sent at once meet.
    await _check_room(view.record.id, len(content), None)
    entry = await _store(ctx, view, data.section, data.supersedes, content, content_type, filename, {
        "title": title,
        "care_date": care_date,
        "details": {
            "documentType": document_type,
            "description": description,
            "fileName": filename,
            "contentType": content_type,
            "size": len(content),
        },
    })
    return entry, view.is_owner


async def _writable_view(ctx: Context, data: DocumentInput) -> RecordView:
    viewer = ctx.viewer
    if not viewer.authenticated:
        raise Unauthenticated()
    if data.section not in FILE_SECTIONS:
        raise BadUserInput(
            "Documents can be uploaded to the DOCUMENTS or LAB_RESULTS section only", Reason.UPLOAD_SECTION
        )
    ins = _normalized_ins(data.ins)
    if viewer.role == Role.PATIENT:
        record = await own_record(viewer.account_id)
        if record is None or (ins is not None and ins != record.ins):
            raise Forbidden("You may only add documents to your own record")
    elif viewer.role == Role.PRACTITIONER:
        if ins is None:
            raise BadUserInput(
                "ins is required to add a document to a patient's record", Reason.FIELD_REQUIRED, field="ins"
            )
        record = await record_by_ins(ctx, ins)  # with its sharing facts: as addEntry's
    else:
        raise Forbidden("Only patients and practitioners add documents")
    view = await view_of(ctx, record)
    if not may_write(view.viewer, view.facts, view.sharing, data.section):
        await count_refusal(ctx)  # before the denied attempt is noted: past the bound, nothing
    _check_writable(ctx, view, data.section)
    return view


def _check_writable(ctx: Context, view: RecordView, section: Section) -> None:
    """FORBIDDEN unless the viewer may add to this section of the record; a refusal on an
    existing record is noted as ACCESS_DENIED, but for its owner's (the same words before
    and under the lock)."""
    if may_write(view.viewer, view.facts, view.sharing, section):
        return
    raise refused_write(
        ctx, view, "You may not add documents to this section of this record",
        to_owner="Your record is not active: documents cannot be added",
        pending_deletion=PENDING_DELETION_UPLOAD, sections=frozenset({section}),
    )


async def _view_under_lock(ctx: Context, view: RecordView, section: Section, conn: Any) -> RecordView:
    """The decision taken again on the record as it is now, read under its lock (`changing`):
    a closing, a revoked grant or a new treating physician may have committed while the file
    was read, checked and encrypted."""
    now = await view_now(ctx, view.record.id, conn)
    if now is None:  # purged meanwhile
        raise NoAccess(NO_ACCESS)
    _check_writable(ctx, now, section)
    return now


def _normalized_ins(raw: str | None) -> str | None:
    if raw is None or not raw.strip():
        return None
    return ins_argument(raw)


def _text(
    value: str | None, name: str, limit: int, required: bool = False, *, long: bool = False
) -> str | None:
    """A field as it shows (as addEntry keeps its text): invisible characters out; on one
    line unless `long`."""
    text = lines(value or "") if long else one_line(value or "")
    if not text:
        if required:
            raise BadUserInput(f"{name} is required", Reason.FIELD_REQUIRED, field=name)
        return None
    if len(text) > limit:
        raise BadUserInput(
            f"{name} must be at most {limit} characters", Reason.FIELD_TOO_LONG, field=name, max=limit
        )
    return text


def _checked_fields(data: DocumentInput) -> tuple[str, str | None, str | None, dt.date]:
    title = _text(data.title, "title", 300, required=True)
    assert title is not None  # noqa: S101 — required=True never returns None
    care_date = data.date or clock.service_today()
    if care_date > clock.latest_today():
        raise BadUserInput("date cannot be in the future", Reason.DATE_IN_FUTURE, field="date")
    return (
        title,
        _text(data.document_type, "documentType", 100),
        _text(data.description, "description", 2000, long=True),
        care_date,
    )


async def _read_limited(file: UploadedFile) -> bytes:
    """The upload's bytes, read in chunks; refused as soon as it passes the limit."""
    chunks: list[bytes] = []
    total = 0
    while True:
        chunk = await file.read(CHUNK_BYTES)
        if not chunk:
            break
        total += len(chunk)
        if total > MAX_BYTES:
            raise BadUserInput(TOO_LARGE, Reason.FILE_TOO_LARGE, maxMb=MAX_MB)
        chunks.append(chunk)
    if total == 0:
        raise BadUserInput("The file is empty", Reason.FILE_EMPTY)
    return b"".join(chunks)


MAX_FILENAME = 100
# Characters file systems refuse or give a meaning to; controls go with the invisible ones.
_UNSAFE = re.compile(r'["*/:<>?\\|]+')
# How a multipart request carries a file name's `"`, CR and LF (HTML's form encoding: %22,
# %0D, %0A); some clients escape every control character so.
_FORM_ESCAPE = re.compile(r"%(22|[01][0-9A-Fa-f])")


def safe_filename(raw: str | None, content_type: str) -> str:
    """A display name without paths, controls, format characters (direction overrides,
    zero-width) or line separators, cut to 100 characters, with the extension of its content."""
    name = _FORM_ESCAPE.sub(lambda escape: chr(int(escape.group(1), 16)), raw or "")
    name = unicodedata.normalize("NFC", name.replace("\\", "/").rsplit("/", 1)[-1])
    # As it shows: `rapport\u202egnp.pdf` would read "rapportfdp.png".
    name = _UNSAFE.sub("_", one_line(name)[:MAX_FILENAME]).strip(" .") or "document"
    extensions = EXTENSIONS[content_type]
    if not name.lower().endswith(extensions):
        name += extensions[0]
    return name


# The files of a record's entries (a deleted entry's file no longer counts: it is purged).
_FILES_HELD = (
    'SELECT COALESCE(SUM(f."size"), 0) AS "held" FROM "stored_file" f WHERE f."record_id" = $1'
    ' AND EXISTS (SELECT 1 FROM "entry" e WHERE e."file_id" = f."id")'
)


async def _check_room(record_id: uuid.UUID, size: int, conn: Any) -> None:
    """Under the record's lock (`conn`): two uploads at once cannot both take the last room.
    Without it (None): an early refusal, before the file is written."""
    # The documents of one record, all together (DMP_RECORD_STORAGE_MB): a record is exported
    # whole, in memory.
    room_mb = settings().record_storage_mb
    rows = await sql.fetch(_FILES_HELD, [record_id], conn)
    if int(rows[0]["held"]) + size > room_mb * 1024 * 1024:
        raise BadUserInput(
            f"The record's documents would go beyond {room_mb} MB together",
            Reason.RECORD_FILES_FULL, maxMb=room_mb,
        )


async def _store(
    ctx: Context,
    view: RecordView,
    section: Section,
    supersedes: str | None,
    content: bytes,
    content_type: str,
    filename: str,
    fields: dict[str, object],
) -> Entry:
    """The encrypted file first, then the rows and the ENTRY_ADDED event in one transaction.

    If anything fails before the commit, the transaction rolls back and the file is removed:
    no leftovers (unless the disk refuses the removal: logged, and swept by `dmp purge`). A
    failure of the commit itself (the connection lost on COMMIT, the request cancelled as the
    service stops) may follow a commit that landed: the file then stays, as its entry may hold
    it, and `dmp purge` sweeps it a day later if no stored-file row does.

    A new version (`supersedes`) marks the one it replaces superseded in the same transaction;
    the old version keeps its own file.
    """
    viewer = ctx.viewer
    file_id = uuid.uuid4()
    committing = False
    try:
        sealed = await storage.write(file_id, content)
        async with ctx.access_log.changing(view.record.id) as conn:
            view = await _view_under_lock(ctx, view, section, conn)
            record = view.record
            # Read again under the lock, as addEntry does: a masking committed meanwhile
            # masks the new version, and of two replacements sent at once only one wins.
            old = await superseded_entry(ctx, view, supersedes, section, conn, by_upload=True)
            if old is not None:
                await claim_superseded(old, conn)
            await _check_room(record.id, len(content), conn)
            # With addEntry's, in the entry's transaction: a document is an entry too.
            await count_manual_write(ctx, record.id, conn)
            stored = await StoredFile.create(
                using_db=conn,
                id=file_id,
                record=record,
                content_type=content_type,
                size=len(content),
                filename=filename,
                key_id=sealed.key_id,
                wrapped_key=sealed.wrapped_key,
                nonce=sealed.nonce,
            )
            entry = await Entry.create(
                using_db=conn,
                id=entry_id(after=old.id if old is not None else None),
                record=record,
                section=section,
                code="",
                title=fields["title"],
                care_date=fields["care_date"],
                author_id=viewer.account_id,
                author_name=viewer.display_name,
                author_profession=viewer.profession.value if viewer.profession else None,
                source=EntrySource.PATIENT if view.is_owner else EntrySource.PRACTITIONER,
                details=fields["details"],
                file=stored,
                masked=bool(old and old.masked),
                supersedes_id=old.id if old else None,
            )
            # The change and its event commit together: no unrecorded upload, no orphan event.
            await ctx.access_log.record_change(
                record.id, AccessAction.ENTRY_ADDED, mode=view.modes[section], sections={section},
                entry_id=str(entry.id),
            )
            if not view.is_owner:
                await notify_new_document(record.id, using_db=conn)
            committing = True
    except BaseException:
        if not committing:
            # If the disk refuses, the request's own error is the one to answer.
            storage.discard(file_id, "an upload not stored")
        raise
    return entry


# --- download ------------------------------------------------------------------------


@dataclass(frozen=True)
class Download:
    entry: Entry
    stored: StoredFile
    mode: AccessMode


def _uuid(raw: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(raw)
    except ValueError:
        return None


async def open_download(ctx: Context, entry_id: str) -> Download:
    """The entry's file if this viewer may read the entry; NOT_FOUND alike otherwise.

    A download by anyone but the owner is noted as DOCUMENT_DOWNLOADED; a refusal on an
    existing record is noted as ACCESS_DENIED. The owner of a record pending deletion is
    told so (FORBIDDEN), with no note. The caller writes the notes. Past the caller's bound of
    refused reads (records.count_refusal), RATE_LIMITED instead of NOT_FOUND, nothing noted.
    """
    if not ctx.viewer.authenticated:
        raise Unauthenticated()
    parsed = _uuid(entry_id)
    found = await _entry_with_file(ctx, parsed) if parsed else None
    if found is None:
        # Counted as a refused read is, with patientRecord's (records.REFUSED_READS_PER_HOUR).
        await count_refusal(ctx)
        raise NotFound("No such document")
    entry, stored, view = found
    record = view.record
    section = Section(entry.section)
    mode = view.modes.get(section)
    if mode is None or (
        entry.masked and not sees_masked(view.viewer, mode, entry.author_id)  # type: ignore[attr-defined]
    ):
        if owner_pending_deletion(ctx, view):
            # Their own document: no secret to keep from them, and nothing to note.
            raise Forbidden(PENDING_DELETION_DOWNLOAD, **pending_deletion_reason(view.facts.status))
        # As an unknown document is, before anything is noted: past the bound, nothing.
        await count_refusal(ctx)
        if not view.is_owner:  # a pending record's too, as a read's (DESIGN §4)
            if view.modes:
                # A masked document refused in an emergency access is among its events.
                ctx.access_log.note(
                    record.id, AccessAction.ACCESS_DENIED, sections={section},
                    mode=mode if mode in EMERGENCY_MODES else None,
                )
            else:  # no access at all: noted as patientRecord's refusal is
                note_denied(ctx, view, frozenset({section}))
        raise NotFound("No such document")
    if mode != AccessMode.OWNER:
        ctx.access_log.note(
            record.id, AccessAction.DOCUMENT_DOWNLOADED, mode=mode, sections={section},
            entry_id=str(entry.id),
        )
    return Download(entry, stored, mode)


def _prefixed(model: type[Model], alias: str) -> str:
    """Every column of `model`'s table under `alias`, each named `alias__column`."""
    columns = model._meta.fields_db_projection.values()
    return ", ".join(f'{alias}."{column}" AS "{alias}__{column}"' for column in columns)


@lru_cache(maxsize=1)
def _entry_with_file_statement() -> str:
    # Built on first use, once the ORM knows every model's columns. Fixed text and $n only.
    return (
        f'SELECT e.*, {_prefixed(StoredFile, "f")}, {_prefixed(Record, "r")}, {sharing_columns(2)}'  # noqa: S608
        ' FROM "entry" e JOIN "stored_file" f ON f."id" = e."file_id"'
        f' JOIN "record" r ON r."id" = e."record_id" {sharing_join(2)} WHERE e."id" = $1'
    )


def _unprefixed(row: Any, model: type[Model], alias: str) -> dict[str, Any]:
    return {column: row[f"{alias}__{column}"] for column in model._meta.fields_db_projection.values()}


async def _entry_with_file(ctx: Context, entry_id: uuid.UUID) -> tuple[Entry, StoredFile, RecordView] | None:
    """An entry that holds a file, its file, and the caller's view of its record, read with
    the record's sharing facts for the caller in one statement; None for an entry that does
    not exist or holds no file. The same one statement whether there is such an entry or not,
    so that a refusal runs the same ones before its answer's floor (errors.NoAccess) for a
    document the caller may not read and for none."""
    conn = sql.default()
    params = [entry_id, *sharing_params(ctx.viewer.practitioner_id, clock.now())]
    rows = await sql.fetch(_entry_with_file_statement(), params, conn)
    if not rows:
        return None
    row = rows[0]
    record = sql.model(Record, _unprefixed(row, Record, "r"), conn)
    stored = sql.model(StoredFile, _unprefixed(row, StoredFile, "f"), conn)
    return sql.model(Entry, row, conn), stored, view_from_row(ctx, record, row)


async def read_document(download: Download) -> bytes:
    """The verified plaintext of the download (FileIntegrityError if it was altered)."""
    stored = download.stored
    return await storage.read(stored.id, stored.nonce, stored.wrapped_key, stored.key_id)
