"""exportMyRecord: the whole record for its owner, as JSON or a FHIR R4 Bundle (DESIGN §2)."""

from __future__ import annotations

import asyncio
import base64
import json
import logging
import uuid
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from tortoise.transactions import in_transaction

from backend import clock, sql
from backend.audit import reasons
from backend.domain.enums import AccessAction, AccessMode, RecordStatus, Section
from backend.errors import NotFound
from backend.files import storage
from backend.files.crypto import FileIntegrityError, KeyUnavailable
from backend.models import AccessEvent, BlockedPractitioner, Entry, Grant, Practitioner, Record, StoredFile
from backend.per_loop import per_loop
from backend.resolvers import history
from backend.resolvers.context import Context
from backend.resolvers.fhir import bundle_json, instant
from backend.resolvers.records import patients_own_record
from backend.resolvers.spliced import Spliced

log = logging.getLogger("dmp.export")


class ExportFormat(StrEnum):
    JSON = "JSON"
    FHIR = "FHIR"


@dataclass(frozen=True)
class ExportFile:
    file_name: str
    content_type: str
    content: str


@dataclass(frozen=True)
class Attachment:
    filename: str
    content_type: str
    size: int
    # The file in base64, made as it is read (its bytes are not kept beside it); None when the
    # stored file could not be opened, or was deleted.
    base64: str | None
    # The entry was deleted, its file with it, after the moment the export shows: the entry
    # stays in the export as it was then, its file said deleted rather than unreadable.
    deleted: bool = False

    def as_json(self) -> dict[str, Any]:
        return {
            "fileName": self.filename,
            "contentType": self.content_type,
            "size": self.size,
            "data": self.base64,
            "unreadable": self.base64 is None and not self.deleted,
            "deletedDuringExport": self.deleted,
        }


@dataclass
class Snapshot:
    """Everything the export contains, as it was at one moment, loaded in a fixed number of
    queries."""

    record: Record
    entries: list[Entry]
    files: dict[uuid.UUID, Attachment] = field(default_factory=dict)
    grants: list[Grant] = field(default_factory=list)
    treating_physician: Practitioner | None = None
    blocked: list[BlockedPractitioner] = field(default_factory=list)
    # The record's access history up to the snapshot's moment, oldest first (`access_history`).
    history: list[AccessEvent] = field(default_factory=list)

    def attachment(self, entry: Entry, spliced: Spliced | None = None) -> Attachment | None:
        """The entry's file; with `spliced`, a placeholder held there in its base64's place."""
        file_id = entry.file_id  # type: ignore[attr-defined]
        attachment = self.files.get(file_id) if file_id else None
        return spliced.attachment(attachment) if spliced is not None else attachment


# An export holds every document of the record in memory several times over: their base64 and
# the export's text as it is built, then the text, orjson's UTF-8 copy of it and the response's
# bytes as it is sent (docs/benchmarks.md, "The export's memory"). One export is built at a
# time per event loop, so that exports asked for at once take their turn instead of adding up.
_one_at_a_time = per_loop(asyncio.Lock)


async def export_my_record(ctx: Context, fmt: ExportFormat) -> ExportFile:
    record = await patients_own_record(ctx, "Only the patient exports their own record")
    # The owner's copy at any time (DESIGN §2): ACTIVE, CLOSED, and DELETED during its grace
    # period, though the record is no longer read there; a PENDING record has no owner yet.
    if record is None or record.status not in _EXPORTED:
        raise NotFound("You have no record to export")
    day = clock.service_today().isoformat()  # the day in France, as the patient sees it
    async with _one_at_a_time():
        snapshot = await load_snapshot(record)
        # Gone (purged) while this export waited its turn.
        if snapshot is None or snapshot.record.status not in _EXPORTED:
            raise NotFound("You have no record to export")
        snapshot.history = await access_history(snapshot.record.id, snapshot.record.event_seq)
        if fmt == ExportFormat.FHIR:
            # Validation and serialisation of a large record are CPU work: off the event loop.
            content = await asyncio.to_thread(bundle_json, snapshot)
            result = ExportFile(f"dmp-export-{day}.fhir.json", "application/fhir+json", content)
        else:
            content = await asyncio.to_thread(export_json, snapshot)
            result = ExportFile(f"dmp-export-{day}.json", "application/json", content)
    ctx.access_log.note(
        record.id, AccessAction.RECORD_EXPORTED, mode=AccessMode.OWNER, sections=set(Section),
        reason=reasons.export_format(fmt.value),
    )
    return result


_EXPORTED = (RecordStatus.ACTIVE, RecordStatus.CLOSED, RecordStatus.DELETED)
# Set as the transaction's first statement: every read of it then sees the database as it was
# at that first read (PostgreSQL's snapshot), and it may not write.
_ONE_MOMENT = "SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY"


async def load_snapshot(record: Record) -> Snapshot | None:
    """The record as it is at one moment, then the files of its entries; None if it is gone.

    The rows are read in one transaction: on PostgreSQL a REPEATABLE READ one, whose reads
    all see the moment of its first; on SQLite its transaction (BEGIN IMMEDIATE on the
    process's one connection), which no write passes until it ends. An entry deleted
    meanwhile is then in the export with its file, or not at all. The files are read after
    the transaction (a long read must not hold SQLite's lock): a file deleted after that moment
    is gone from the disk, and its entry keeps a file said deleted during the export
    (`Attachment.deleted`).
    """
    async with in_transaction() as conn:
        if not sql.is_sqlite(conn):
            await conn.execute_script(_ONE_MOMENT)
        now = await Record.filter(id=record.id).using_db(conn).first()
        if now is None:  # purged since the caller's record was read
            return None
        entries = await Entry.filter(record_id=record.id).using_db(conn).order_by(
            "section", "care_date", "created_at", "id")
        stored = await StoredFile.filter(record_id=record.id).using_db(conn)
        grants = await Grant.filter(record_id=record.id).using_db(conn).select_related(
            "practitioner", "practitioner__account"
        ).order_by("created_at")
        blocked = await BlockedPractitioner.filter(record_id=record.id).using_db(conn).select_related(
            "practitioner", "practitioner__account"
        ).order_by("created_at")
        physician = None
        if now.treating_physician_id:  # type: ignore[attr-defined]
            physician = await Practitioner.filter(
                id=now.treating_physician_id  # type: ignore[attr-defined]
            ).using_db(conn).select_related("account").first()
    held = {e.file_id for e in entries if e.file_id}  # type: ignore[attr-defined]
    files = {row.id: await _attachment(row) for row in stored if row.id in held}
    return Snapshot(now, list(entries), files, list(grants), physician, list(blocked))


async def access_history(record_id: uuid.UUID, last_seq: int) -> list[AccessEvent]:
    """The record's access history, its events 1 to `last_seq`, oldest first, in one statement.

    `last_seq` is the record's last event number at the snapshot's moment: an event and that
    number are written in one transaction, and an event is never changed once written, so these
    events are those of that moment, read after it (the export's own event, written once it is
    built, is not among them). The caller read the record as the viewer's own. A purge removes
    the record's events with the record, in one transaction: a record that had events and has
    none now was purged meanwhile, and has nothing to export.
    """
    events = await history.record_history(record_id, last_seq)
    if last_seq > 0 and not events:
        raise NotFound("You have no record to export")
    return events


def _base64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


async def _attachment(row: StoredFile) -> Attachment:
    try:
        data: bytes | None = await storage.read(row.id, row.nonce, row.wrapped_key, row.key_id)
    except FileNotFoundError:
        if not await StoredFile.exists(id=row.id):
            # Its entry was deleted after the export's moment (the row goes first, then the
            # file): not a fault.
            return Attachment(row.filename, row.content_type, row.size, None, deleted=True)
        log.exception("stored file %s could not be opened for export", row.id)
        data = None
    except (FileIntegrityError, KeyUnavailable, OSError):
        # The patient still gets the rest of the record; the file is flagged unreadable.
        log.exception("stored file %s could not be opened for export", row.id)
        data = None
    # Off the event loop: a file's base64 takes milliseconds per megabyte.
    text = await asyncio.to_thread(_base64, data) if data is not None else None
    del data  # the file's bytes go now: the export keeps its base64 only
    return Attachment(row.filename, row.content_type, row.size, text)


def _practitioner(p: Practitioner) -> dict[str, Any]:
    return {
        "displayName": p.account.display_name,
        "profession": p.profession.value if hasattr(p.profession, "value") else str(p.profession),
        "rpps": p.rpps,
        "city": p.city,
    }


def entry_json(entry: Entry, attachment: Attachment | None) -> dict[str, Any]:
    return {
        "id": str(entry.id),
        "section": str(entry.section),
        "code": entry.code,
        "title": entry.title,
        "date": entry.care_date.isoformat(),
        "source": str(entry.source),
        "author": {"displayName": entry.author_name, "profession": entry.author_profession}
        if entry.author_name
        else None,
        "createdAt": entry.created_at.isoformat(),
        "supersedes": str(entry.supersedes_id) if entry.supersedes_id else None,  # type: ignore[attr-defined]
        "superseded": entry.superseded,
        "masked": entry.masked,
        "organization": entry.organization,
        "externalId": entry.external_id,
        "details": entry.details or {},
        "file": attachment.as_json() if attachment else None,
    }


def event_json(event: AccessEvent) -> dict[str, Any]:
    """An event as the patient's history shows it (myAccessHistory's fields), without the
    actor's account id and the entry's id, which the history screen does not show."""
    return {
        "id": history.id_of(event),
        "seq": event.seq,
        "at": instant(event.at),
        "actorName": event.actor_name,
        "actorProfession": event.actor_profession,
        "actorRole": event.actor_role,
        "action": event.action,
        "mode": event.mode or None,
        "sections": [str(s) for s in event.sections or []],
        "reason": event.reason,
        "emergency": history.is_emergency(event),
    }


def emergency_json(record: Record) -> dict[str, Any]:
    return {
        "bloodGroup": record.blood_group,
        "emergencyContacts": list(record.emergency_contacts or []),
        "advanceDirectives": record.advance_directives or "",
    }


def export_json(snapshot: Snapshot) -> str:
    """The JSON export's text: `as_json`'s tree as json.dumps writes it (indented by 2, UTF-8
    characters as they are), the files' base64 put in once the rest is written (`Spliced`)."""
    spliced = Spliced()
    return spliced.into(json.dumps(as_json(snapshot, spliced), ensure_ascii=False, indent=2))


def as_json(snapshot: Snapshot, spliced: Spliced | None = None) -> dict[str, Any]:
    """The JSON export's tree; with `spliced`, each file's base64 held there, a placeholder in
    its place."""
    record = snapshot.record
    sections: dict[str, list[dict[str, Any]]] = {s.value: [] for s in Section}
    for entry in snapshot.entries:
        sections[str(entry.section)].append(entry_json(entry, snapshot.attachment(entry, spliced)))
    return {
        "format": "dmp-export",
        "version": 1,
        "exportedAt": clock.now().isoformat(),
        "identity": {
            "ins": record.ins,
            "firstName": record.first_name,
            "lastName": record.last_name,
            "birthDate": record.birth_date.isoformat(),
            "status": str(record.status),
            "createdAt": record.created_at.isoformat(),
            "activatedAt": record.activated_at.isoformat() if record.activated_at else None,
            "closedAt": record.closed_at.isoformat() if record.closed_at else None,
            "deletionRequestedAt": record.deletion_requested_at.isoformat()
            if record.deletion_requested_at
            else None,
        },
        "sections": sections,
        "emergencyProfile": emergency_json(record),
        "accessHistory": [event_json(event) for event in snapshot.history],
        "sharing": {
            "grants": [
                {
                    "practitioner": _practitioner(g.practitioner),
                    "sections": sorted(g.sections),
                    "since": g.created_at.isoformat(),
                }
                for g in snapshot.grants
            ],
            "treatingPhysician": _practitioner(snapshot.treating_physician)
            if snapshot.treating_physician
            else None,
            "blockedPractitioners": [_practitioner(b.practitioner) for b in snapshot.blocked],
            "allowRegulatorAccess": record.allow_regulator,
            "allowBreakGlass": record.allow_break_glass,
            "notifyNewDocuments": record.notify_new_documents,
        },
    }
