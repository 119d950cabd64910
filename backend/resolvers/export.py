"""exportMyRecord: the whole record for its owner, as JSON or a FHIR R4 Bundle (DESIGN §2)."""

from __future__ import annotations

import asyncio
import base64
import json
import logging
import uuid
import weakref
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from backend import clock
from backend.audit import reasons
from backend.domain.enums import AccessAction, AccessMode, RecordStatus, Section
from backend.errors import NotFound
from backend.files import storage
from backend.files.crypto import FileIntegrityError, KeyUnavailable
from backend.models import BlockedPractitioner, Entry, Grant, Practitioner, Record, StoredFile
from backend.resolvers.context import Context
from backend.resolvers.fhir import bundle_json
from backend.resolvers.records import patients_own_record

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
    data: bytes | None  # None when the stored file could not be opened

    def as_json(self) -> dict[str, Any]:
        return {
            "fileName": self.filename,
            "contentType": self.content_type,
            "size": self.size,
            "data": base64.b64encode(self.data).decode() if self.data is not None else None,
            "unreadable": self.data is None,
        }


@dataclass
class Snapshot:
    """Everything the export contains, loaded in a fixed number of queries."""

    record: Record
    entries: list[Entry]
    files: dict[uuid.UUID, Attachment] = field(default_factory=dict)
    grants: list[Grant] = field(default_factory=list)
    treating_physician: Practitioner | None = None
    blocked: list[BlockedPractitioner] = field(default_factory=list)

    def attachment(self, entry: Entry) -> Attachment | None:
        file_id = entry.file_id  # type: ignore[attr-defined]
        return self.files.get(file_id) if file_id else None


# An export holds every document of the record in memory, several times over (the files,
# their base64, the JSON text): one export is built at a time per event loop, so that exports
# asked for at once take their turn instead of adding up.
_TURNS: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Lock] = weakref.WeakKeyDictionary()


def _one_at_a_time() -> asyncio.Lock:
    loop = asyncio.get_running_loop()
    turn = _TURNS.get(loop)
    if turn is None:
        turn = _TURNS[loop] = asyncio.Lock()
    return turn


async def export_my_record(ctx: Context, fmt: ExportFormat) -> ExportFile:
    record = await patients_own_record(ctx, "Only the patient exports their own record")
    if record is None:
        raise NotFound("You have no record to export")
    # The owner's copy at any time (DESIGN §2): ACTIVE, CLOSED, and DELETED during its grace
    # period, though the record is no longer read there; a PENDING record has no owner yet.
    if record.status not in (RecordStatus.ACTIVE, RecordStatus.CLOSED, RecordStatus.DELETED):
        raise NotFound("You have no record to export")
    day = clock.service_today().isoformat()  # the day in France, as the patient sees it
    async with _one_at_a_time():
        snapshot = await load_snapshot(record)
        if fmt == ExportFormat.FHIR:
            # Validation and serialisation of a large record are CPU work: off the event loop.
            content = await asyncio.to_thread(bundle_json, snapshot)
            result = ExportFile(f"dmp-export-{day}.fhir.json", "application/fhir+json", content)
        else:
            content = await asyncio.to_thread(
                lambda: json.dumps(as_json(snapshot), ensure_ascii=False, indent=2)
            )
            result = ExportFile(f"dmp-export-{day}.json", "application/json", content)
    ctx.access_log.note(
        record.id, AccessAction.RECORD_EXPORTED, mode=AccessMode.OWNER, sections=set(Section),
        reason=reasons.export_format(fmt.value),
    )
    return result


async def load_snapshot(record: Record) -> Snapshot:
    entries = await Entry.filter(record_id=record.id).order_by("section", "care_date", "created_at", "id")
    stored = await StoredFile.filter(record_id=record.id)
    files = {row.id: await _attachment(row) for row in stored}
    grants = await Grant.filter(record_id=record.id).select_related(
        "practitioner", "practitioner__account"
    ).order_by("created_at")
    blocked = await BlockedPractitioner.filter(record_id=record.id).select_related(
        "practitioner", "practitioner__account"
    ).order_by("created_at")
    physician = None
    if record.treating_physician_id:  # type: ignore[attr-defined]
        physician = await Practitioner.filter(
            id=record.treating_physician_id  # type: ignore[attr-defined]
        ).select_related("account").first()
    return Snapshot(record, list(entries), files, list(grants), physician, list(blocked))


async def _attachment(row: StoredFile) -> Attachment:
    try:
        data: bytes | None = await storage.read(row.id, row.nonce, row.wrapped_key, row.key_id)
    except (FileIntegrityError, KeyUnavailable, OSError):
        # The patient still gets the rest of the record; the file is flagged unreadable.
        log.exception("stored file %s could not be opened for export", row.id)
        data = None
    return Attachment(row.filename, row.content_type, row.size, data)


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


def emergency_json(record: Record) -> dict[str, Any]:
    return {
        "bloodGroup": record.blood_group,
        "emergencyContacts": list(record.emergency_contacts or []),
        "advanceDirectives": record.advance_directives or "",
    }


def as_json(snapshot: Snapshot) -> dict[str, Any]:
    record = snapshot.record
    sections: dict[str, list[dict[str, Any]]] = {s.value: [] for s in Section}
    for entry in snapshot.entries:
        sections[str(entry.section)].append(entry_json(entry, snapshot.attachment(entry)))
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
