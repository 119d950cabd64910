"""The insurer's care-history import: validated per item, written in one transaction.

Idempotent on (record, organization, external id), which the database's unique
constraint enforces; a concurrent import of an overlapping batch makes the insert of
keys fail, and the batch is then retried against what the other import committed.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import uuid
from dataclasses import dataclass, field
from typing import Any

from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from backend import clock
from backend.accounts import EMAIL
from backend.audit.collector import AccessLog
from backend.auth import activation
from backend.authz.matrix import INSURER_SECTIONS
from backend.domain.codes import InvalidCode, normalize_section_code
from backend.domain.details import InvalidDetails, normalize_details
from backend.domain.enums import AccessAction, AccessMode, EntrySource, RecordStatus, Role, Section
from backend.domain.identifiers import InvalidIdentifier, normalize_ins
from backend.errors import BadUserInput, Conflict, Forbidden, Unauthenticated
from backend.models import Entry, ImportKey, Record
from backend.resolvers.context import Context

MAX_ITEMS = 5000
IMPORT_SCOPE = "insurer:import"
ATTEMPTS = 3
OPENED_REASON = "record opened by the import for this identity"
OLDEST_CARE_DATE = dt.date(1900, 1, 1)
# Sections whose items must carry a code (a hospital stay may come without a diagnosis).
CODE_REQUIRED = INSURER_SECTIONS - {Section.HOSPITAL_STAYS}


@dataclass
class CareItem:
    ins: str
    first_name: str
    last_name: str
    birth_date: dt.date
    external_id: str
    section: Section
    code: str
    title: str
    date: dt.date
    details: Any = None
    contact_email: str | None = None


@dataclass
class ImportRejection:
    index: int
    external_id: str
    code: str
    message: str


@dataclass
class ImportResult:
    created: int = 0
    corrected: int = 0
    unchanged: int = 0
    rejected: list[ImportRejection] = field(default_factory=list)

    @property
    def accepted(self) -> int:
        return self.created + self.corrected + self.unchanged


@dataclass
class _Valid:
    index: int
    item: CareItem
    ins: str
    code: str
    title: str
    details: dict[str, Any]
    content_hash: str


class _Race(Exception):
    """Another import changed a key this one read; the batch is retried."""


def _content_hash(section: Section, code: str, title: str, date: dt.date, details: dict[str, Any]) -> str:
    canonical = json.dumps(
        {"section": section.value, "code": code, "title": title, "date": date.isoformat(),
         "details": details},
        sort_keys=True, separators=(",", ":"), ensure_ascii=False,
    )
    return hashlib.sha256(canonical.encode()).hexdigest()


def _validate(index: int, item: CareItem, today: dt.date) -> _Valid:
    """One item, normalized; raises ValueError with a message for the insurer."""
    try:
        ins = normalize_ins(item.ins)
    except InvalidIdentifier as exc:
        raise ValueError(str(exc)) from None
    external_id = item.external_id.strip()
    if not external_id or len(external_id) > 100:
        raise ValueError("externalId must be 1 to 100 characters")
    if item.section not in INSURER_SECTIONS:
        raise ValueError(f"{item.section.value} is not a care-history section")
    first, last = item.first_name.strip(), item.last_name.strip()
    if not first or not last or len(first) > 100 or len(last) > 100:
        raise ValueError("firstName and lastName must be 1 to 100 characters")
    if item.birth_date > today:
        raise ValueError("birthDate is in the future")
    if item.contact_email is not None and not EMAIL.match(item.contact_email.strip()):
        raise ValueError("contactEmail is not an e-mail address")
    title = item.title.strip()
    if not title or len(title) > 300:
        raise ValueError("title must be 1 to 300 characters")
    if item.date > today:
        raise ValueError("date is in the future")
    if item.date < max(OLDEST_CARE_DATE, item.birth_date):
        raise ValueError("date is before the patient's birth")
    try:
        code = normalize_section_code(item.section, item.code or "")
        details = normalize_details(item.section, item.details, today)
    except (InvalidCode, InvalidDetails) as exc:
        raise ValueError(str(exc)) from None
    if not code and item.section in CODE_REQUIRED:
        raise ValueError(f"a {item.section.value} item needs a code")
    item.external_id = external_id
    return _Valid(index, item, ins, code, title, details,
                  _content_hash(item.section, code, title, item.date, details))


def insurer_organization(ctx: Context) -> str:
    """The organization of a bearer token allowed to import; refuses everyone else."""
    viewer = ctx.viewer
    if not viewer.authenticated:
        raise Unauthenticated()
    if (
        viewer.role != Role.INSURER
        or viewer.token_id is None
        or IMPORT_SCOPE not in viewer.scopes
        or not viewer.organization
    ):
        raise Forbidden("An insurer token with the insurer:import scope is required")
    return viewer.organization


async def import_care_history(ctx: Context, items: list[CareItem]) -> ImportResult:
    organization = insurer_organization(ctx)
    if len(items) > MAX_ITEMS:
        raise BadUserInput(f"At most {MAX_ITEMS} items per import", maxItems=MAX_ITEMS)
    return await run_import(ctx.access_log, organization, items)


async def run_import(access_log: AccessLog, organization: str, items: list[CareItem]) -> ImportResult:
    """Validate, then write the accepted items; used by the API and by `dmp seed-demo`."""
    today = clock.now().date()
    rejected: list[ImportRejection] = []
    valid: list[_Valid] = []
    seen: set[tuple[str, str]] = set()
    for index, item in enumerate(items):
        try:
            checked = _validate(index, item, today)
        except ValueError as exc:
            rejected.append(ImportRejection(index, item.external_id, "BAD_USER_INPUT", str(exc)))
            continue
        key = (checked.ins, checked.item.external_id)
        if key in seen:
            rejected.append(ImportRejection(
                index, item.external_id, "CONFLICT", "externalId appears twice in this batch"
            ))
            continue
        seen.add(key)
        valid.append(checked)
    for attempt in range(ATTEMPTS):
        try:
            result, touched, opened = await _write(organization, valid)
            break
        except (IntegrityError, _Race):
            if attempt == ATTEMPTS - 1:
                raise Conflict("A concurrent import changed the same items; try again") from None
    result.rejected = sorted(rejected + result.rejected, key=lambda r: r.index)
    # One event per record touched; a record this import opened says so in its reason.
    for record_id in set(touched) | set(opened):
        access_log.note(record_id, AccessAction.ENTRIES_IMPORTED, mode=AccessMode.INSURER,
                        sections=touched.get(record_id, set()),
                        reason=OPENED_REASON if record_id in opened else "")
    return result


async def _write(
    organization: str, valid: list[_Valid]
) -> tuple[ImportResult, dict[uuid.UUID, set[Section]], list[uuid.UUID]]:
    result = ImportResult()
    touched: dict[uuid.UUID, set[Section]] = {}
    if not valid:
        return result, touched, []
    now = clock.now()
    async with in_transaction() as conn:
        wanted = sorted({v.ins for v in valid})
        records = {r.ins: r for r in await Record.filter(ins__in=wanted).using_db(conn)}
        new_records: list[Record] = []
        for v in valid:
            if v.ins in records:
                continue
            record = Record(
                ins=v.ins, first_name=v.item.first_name.strip(), last_name=v.item.last_name.strip(),
                birth_date=v.item.birth_date, status=RecordStatus.PENDING,
                pending_contact=(v.item.contact_email or "").strip() or None, created_at=now,
            )
            records[v.ins] = record
            new_records.append(record)
        if new_records:
            await Record.bulk_create(new_records, batch_size=1000, using_db=conn)

        record_ids = list({r.id for r in records.values()})
        keys = {
            (k.record_id, k.external_id): k  # type: ignore[attr-defined]
            for k in await ImportKey.filter(
                organization=organization, record_id__in=record_ids,
                external_id__in=list({v.item.external_id for v in valid}),
            ).using_db(conn)
        }
        old_ids = [k.entry_id for k in keys.values()]  # type: ignore[attr-defined]
        old_masked = dict(
            await Entry.filter(id__in=old_ids).using_db(conn).values_list("id", "masked")
        ) if old_ids else {}

        entries: list[Entry] = []
        new_keys: list[ImportKey] = []
        corrections: list[tuple[ImportKey, Entry, str]] = []
        for v in valid:
            record = records[v.ins]
            if record.status in (RecordStatus.CLOSED, RecordStatus.DELETED):
                result.rejected.append(ImportRejection(
                    v.index, v.item.external_id, "FORBIDDEN", "The record is closed or deleted"
                ))
                continue
            if record.birth_date != v.item.birth_date:
                result.rejected.append(ImportRejection(
                    v.index, v.item.external_id, "BAD_USER_INPUT",
                    "birthDate does not match the record of this INS",
                ))
                continue
            known = keys.get((record.id, v.item.external_id))
            if known is not None and known.content_hash == v.content_hash:
                result.unchanged += 1
                continue
            entry = Entry(
                id=uuid.uuid4(), record_id=record.id, section=v.item.section, code=v.code,
                title=v.title, care_date=v.item.date, author_name=organization,
                source=EntrySource.INSURER, details=v.details, organization=organization,
                external_id=v.item.external_id, created_at=now,
            )
            if known is None:
                new_keys.append(ImportKey(
                    record_id=record.id, organization=organization,
                    external_id=v.item.external_id, entry_id=entry.id, content_hash=v.content_hash,
                ))
                result.created += 1
            else:
                entry.supersedes_id = known.entry_id  # type: ignore[attr-defined]
                entry.masked = bool(old_masked.get(known.entry_id))  # type: ignore[attr-defined]
                corrections.append((known, entry, v.content_hash))
                result.corrected += 1
            entries.append(entry)
            touched.setdefault(record.id, set()).add(v.item.section)

        if entries:
            await Entry.bulk_create(entries, batch_size=1000, using_db=conn)
        # Keys in a fixed order, so two overlapping imports cannot deadlock on them.
        new_keys.sort(key=lambda k: (str(k.record_id), k.external_id))  # type: ignore[attr-defined]
        if new_keys:
            await ImportKey.bulk_create(new_keys, batch_size=1000, using_db=conn)
        for known, entry, content_hash in corrections:
            moved = await ImportKey.filter(
                id=known.id, entry_id=known.entry_id, content_hash=known.content_hash,  # type: ignore[attr-defined]
            ).using_db(conn).update(entry_id=entry.id, content_hash=content_hash)
            if moved != 1:
                raise _Race
        if corrections:
            await Entry.filter(
                id__in=[known.entry_id for known, _, _ in corrections]  # type: ignore[attr-defined]
            ).using_db(conn).update(superseded=True)
        opened: list[uuid.UUID] = []
        for record in new_records:
            opened.append(record.id)
            if record.pending_contact:
                await activation.issue(record, organization, send_to=record.pending_contact,
                                       using_db=conn)
    return result, touched, opened
