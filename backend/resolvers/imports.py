"""The insurer's care-history import: validated per item, written in one transaction.

Idempotent on (record, organization, external id), which the database's unique
constraint enforces; a concurrent import of an overlapping batch makes the insert of
keys fail, and the batch is then retried against what the other import committed.
The access event of each record touched is written in the same transaction, so the
entries commit with their events or not at all; so is the denied attempt of each existing
record that refused items (closed or deleted, another birth date), in the same statement,
within two bounds: DENIED_EVENTS_PER_RECORD_PER_DAY and REFUSED_TRIES_PER_HOUR.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import re
import uuid
from dataclasses import dataclass, field, replace
from typing import Any

from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from backend import clock, sql
from backend.accounts import OLDEST_BIRTH_DATE, person_name
from backend.audit import bulk, reasons
from backend.audit.chain import purged_ins_macs
from backend.audit.collector import AccessLog
from backend.audit.writer import Actor, PendingEvent
from backend.auth import activation
from backend.auth.contacts import normalize_email, storable_email
from backend.auth.limits import HOUR, at_bound, rate_limited, utc_day, utc_hour
from backend.auth.secrets_util import keyed_digest
from backend.authz.matrix import INSURER_SECTIONS
from backend.domain.codes import InvalidCode, normalize_section_code
from backend.domain.details import DETAIL_FIELDS, InvalidDetails, normalize_details
from backend.domain.enums import (
    AccessAction,
    AccessMode,
    EntrySource,
    OutboxChannel,
    RecordStatus,
    Role,
    Section,
)
from backend.domain.identifiers import InvalidIdentifier, normalize_ins
from backend.domain.ids import entry_id
from backend.domain.reasons import Reason
from backend.domain.text import BLANK_LETTERS, without_invisible
from backend.domain.text import without_invisible_keeping_spaces as _visible
from backend.errors import BadUserInput, Conflict, Forbidden, Unauthenticated
from backend.models import PurgedIdentity, Record
from backend.resolvers.context import Context

MAX_ITEMS = 5000
IMPORT_SCOPE = "insurer:import"
ATTEMPTS = 3
OLDEST_CARE_DATE = dt.date(1900, 1, 1)
# Sections whose items must carry a code (a hospital stay may come without a diagnosis).
CODE_REQUIRED = INSURER_SECTIONS - {Section.HOSPITAL_STAYS}
CLOSED = frozenset({RecordStatus.CLOSED.value, RecordStatus.DELETED.value})

# The denied attempts one organization's imports write in a record's history per UTC day: the
# patient sees that the insurer tried (and why), but a batch sent again and again (a retrying
# pipeline, a script) no longer floods their history. Once they are used up, the record
# refuses every item of the organization until the day ends, the right birth date's too, with
# one message (REFUSED_TODAY) and no event: a guess the history does not note learns nothing
# (answered as before, a right birth date would be imported and a wrong one rejected).
DENIED_EVENTS_PER_RECORD_PER_DAY = 3
REFUSED_TODAY = (
    "This record refuses this organization's items until the next day (UTC): its items were"
    " refused too often today"
)
MIXED_BIRTH_DATES = (
    "this batch gives this INS more than one birthDate: none of its items is imported; send "
    "them again with the patient's birth date"
)
# The (record, birthDate) pairs a token's imports may have refused by existing records (closed
# or deleted, another birth date, refusing the organization for the day) per hour: a token at
# the bound is refused whole (RATE_LIMITED) before its batch is looked at, whatever it holds,
# until the hour ends, so that a token spraying INS is bounded even where the records'
# histories no longer note it. The batch that reaches the bound is answered (its count kept,
# at most the bound): refused, it would be rolled back and its refusal would answer its
# guesses, and a batch over the bound on its own would be refused every hour. A patient's
# items carry one birth date: an insurer whose data disagrees with a few hundred records
# never meets it.
REFUSED_TRIES_PER_HOUR = 1000
TOO_MANY_REFUSED_TRIES = (
    "Too many items of this token's imports were refused by existing records this hour (closed"
    " records, other birth dates); nothing was imported: check the identities sent, then send"
    " the batch again later"
)


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


@dataclass(slots=True)
class _Valid:
    index: int
    item: CareItem
    ins: str
    code: str
    title: str
    details_json: str  # canonical: sorted keys, no spaces, as hashed and as stored
    content_hash: str
    # An external id with a control, format (zero-width, direction), private-use or unassigned
    # character (text.without_invisible's):
    # refused for a new item, still matched where an earlier import stored it so.
    hidden_id: bool = False


class AccessNotRecorded(Exception):
    """The events of an import failed to write; its transaction rolls back, nothing commits."""


class _Race(Exception):
    """Another import changed a key this one read; the batch is retried."""


# Text neither database stores as sent: NUL (PostgreSQL's text cannot hold it) and a lone
# surrogate (UTF-8 has no form for it).
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


def _storable(text: str) -> bool:
    """Whether `text` holds neither; a third of the time of the regular expression."""
    if "\x00" in text:
        return False
    if text.isascii():
        return True
    try:
        text.encode()
    except UnicodeEncodeError:
        return False
    return True


def _unstorable(name: str, text: str) -> str | None:
    """Why `text` cannot be stored, naming the field (never quoting it); None if it can."""
    found = _UNSTORABLE.search(text)
    if found is None:
        return None
    return f"{name} must not contain {'a NUL character' if found.group() == chr(0) else 'a lone surrogate'}"


def _unstorable_item(item: CareItem) -> str | None:
    """The first of the item's own texts that cannot be stored (the details apart)."""
    texts = (item.external_id, item.first_name, item.last_name, item.title, item.code or "",
             item.contact_email or "")
    if _storable("".join(texts)):  # one test for the usual item, the fields only if it fails
        return None
    names = ("externalId", "firstName", "lastName", "title", "code", "contactEmail")
    return next(filter(None, map(_unstorable, names, texts)), None)


def _unstorable_details(value: Any, name: str = "details") -> str | None:
    """The first string in the details, keys included, that cannot be stored; None if none."""
    if isinstance(value, str):
        return _unstorable(name, value)
    if isinstance(value, dict):
        for key, inner in value.items():
            if isinstance(key, str) and _UNSTORABLE.search(key):
                return _unstorable(f"{name} key", key)
            why = _unstorable_details(inner, f"{name}.{key}" if name == "details" else name)
            if why:
                return why
    elif isinstance(value, list):
        for inner in value:
            why = _unstorable_details(inner, name)
            if why:
                return why
    return None


_CANONICAL = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode
_STRING = json.encoder.encode_basestring  # a JSON string, as _CANONICAL writes it


def _content_hash(section: Section, code: str, title: str, date: dt.date, details_json: str) -> str:
    """The SHA-256 of the item's canonical JSON: sorted keys, no spaces, not ASCII-escaped.

    Written out rather than through json.dumps of the whole (a third of the validation's
    time), byte for byte the same text, so that the keys stored by earlier imports match.
    """
    canonical = (
        f'{{"code":{_STRING(code)},"date":{_STRING(date.isoformat())},"details":{details_json},'
        f'"section":{_STRING(section.value)},"title":{_STRING(title)}}}'
    )
    return hashlib.sha256(canonical.encode()).hexdigest()


# Details are one object of a section's fields; a value nested deeper is refused with its
# item, before a walk over it could go past Python's stack (JSON parsers read ~1,000 levels).
MAX_DETAILS_DEPTH = 32


def _too_deep(value: Any) -> bool:
    """Whether containers nest below `value` deeper than MAX_DETAILS_DEPTH (walked without
    recursion)."""
    level = [value]
    for _ in range(MAX_DETAILS_DEPTH + 1):
        level = [inner for each in level if isinstance(each, dict | list)
                 for inner in (each.values() if isinstance(each, dict) else each)]
        if not level:
            return False
    return True


def _visible_details(section: Section, details: Any) -> Any:
    """The details with their free texts as they show, as the title (and as addEntry keeps
    them): no direction override, zero-width or control character; spaces and line breaks
    kept, as in the title, for the hash. Text that cannot be stored is left for its refusal."""
    if not isinstance(details, dict):
        return details
    spec = DETAIL_FIELDS.get(section, {})
    clean = None
    for key, value in details.items():
        if (isinstance(value, str) and not value.isprintable() and spec.get(key, ("",))[0] in ("str", "text")
                and _storable(value)):
            clean = clean if clean is not None else dict(details)
            clean[key] = _visible(value)
    return details if clean is None else clean


def content_hash(item: CareItem, today: dt.date) -> str | None:
    """The hash by which an import compares two items of one key, as its validation computes
    it (on a copy: the validation rewrites the item it reads); None for an item it rejects."""
    try:
        return _validate(0, replace(item), today, {}).content_hash
    except ValueError:
        return None


def _validate(index: int, item: CareItem, today: dt.date, known_ins: dict[str, str]) -> _Valid:
    """One item, normalized; raises ValueError with a message for the insurer.

    `known_ins` holds the INS already checked in this batch (a patient has many items).
    """
    ins = known_ins.get(item.ins)
    if ins is None:
        why = _unstorable("ins", item.ins)
        if why:
            raise ValueError(why)
        try:
            ins = normalize_ins(item.ins)
        except InvalidIdentifier as exc:
            raise ValueError(str(exc)) from None
        known_ins[item.ins] = ins
    why = _unstorable_item(item)
    if why:
        raise ValueError(why)
    external_id = item.external_id.strip()
    if not external_id or len(external_id) > 100:
        raise ValueError("externalId must be 1 to 100 characters")
    if item.section not in INSURER_SECTIONS:
        raise ValueError(f"{item.section.value} is not a care-history section")
    # Names as they show, composed as every other writer of a name stores them (they are in
    # no hash): a record the import opens gives its names to the account activated from it.
    first, last = person_name(item.first_name), person_name(item.last_name)
    if not first or not last or len(first) > 100 or len(last) > 100:
        raise ValueError("firstName and lastName must be 1 to 100 characters")
    if item.birth_date > today:
        raise ValueError("birthDate is in the future")
    if item.birth_date < OLDEST_BIRTH_DATE:  # as create-account and openRecordForPatient
        raise ValueError("birthDate is too far in the past")
    if item.contact_email is not None and not item.contact_email.strip():
        item.contact_email = None  # "" for none, as an export writes it (and openRecordForPatient reads it)
    if item.contact_email is not None and storable_email(item.contact_email) is None:
        raise ValueError("contactEmail is not an e-mail address")
    # As it shows (as addEntry keeps its text): no direction override or zero-width character.
    # Spaces and line breaks are kept as they were: a title's hash, which says whether an item
    # changed, stays that of the items imported before.
    title = _visible(item.title).strip()
    # Letters that show as nothing (Hangul fillers, a blank Braille pattern) are no title, as
    # addEntry's `one_line` reads them (a title of them only was imported, shown blank).
    if not title.translate(BLANK_LETTERS).strip() or len(title) > 300:
        raise ValueError("title must be 1 to 300 characters")
    if item.date > today:
        raise ValueError("date is in the future")
    if item.date < OLDEST_CARE_DATE:  # as addEntry says it (DATE_TOO_OLD)
        raise ValueError("date is too far in the past")
    if item.date < item.birth_date:
        raise ValueError("date is before the patient's birth")
    if _too_deep(item.details):
        raise ValueError(f"details are nested more than {MAX_DETAILS_DEPTH} levels deep")
    try:
        code = normalize_section_code(item.section, item.code or "")
        details = normalize_details(
            item.section, _visible_details(item.section, item.details), today, born=item.birth_date
        )
    except (InvalidCode, InvalidDetails) as exc:
        # Said of unstorable text first: the refusal's own message may quote it (a key).
        raise ValueError(_unstorable_details(item.details) or str(exc)) from None
    if not code and item.section in CODE_REQUIRED:
        raise ValueError(f"a {item.section.value} item needs a code")
    item.external_id, item.first_name, item.last_name = external_id, first, last
    details_json = _CANONICAL(details)
    # The canonical JSON writes a NUL as an escape, as it writes a backslash before "u0000"
    # (hence the walk), and hashing it fails on a lone surrogate, which only the details can
    # still hold here.
    why = _unstorable_details(details) if "\\u0000" in details_json else None
    try:
        content_hash = _content_hash(item.section, code, title, item.date, details_json)
    except UnicodeEncodeError:
        why = _unstorable_details(details) or "details must not contain a lone surrogate"
    if why:
        raise ValueError(why)
    hidden_id = without_invisible(external_id) != external_id
    return _Valid(index, item, ins, code, title, details_json, content_hash, hidden_id)


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
        raise BadUserInput(f"At most {MAX_ITEMS} items per import", Reason.TOO_MANY_ITEMS, maxItems=MAX_ITEMS)
    tries_of = f"import-refused:{ctx.viewer.token_id}"
    await _refuse_past_the_tries_bound(tries_of)
    return await run_import(ctx.access_log, organization, items, tries_of)


async def _refuse_past_the_tries_bound(tries_of: str) -> None:
    """RATE_LIMITED, before the batch is read, for a token whose refused tries of this hour are
    at REFUSED_TRIES_PER_HOUR: whatever the batch holds, so that its answer tells nothing."""
    hour = utc_hour()
    if await at_bound(tries_of, hour, REFUSED_TRIES_PER_HOUR):
        raise rate_limited(hour, HOUR, TOO_MANY_REFUSED_TRIES)


async def run_import(
    access_log: AccessLog, organization: str, items: list[CareItem], tries_of: str | None = None
) -> ImportResult:
    """Validate, then write the accepted items; used by the API and by `dmp seed-demo`.

    The entries and the access event of every record touched commit together: an import
    whose events cannot be written leaves nothing behind. `tries_of` names the counter of
    REFUSED_TRIES_PER_HOUR (a token's); the operator's seed-demo has none.
    """
    today = clock.latest_today()  # the bound of a date in the future
    rejected: list[ImportRejection] = []
    valid: list[_Valid] = []
    known_ins: dict[str, str] = {}
    for index, item in enumerate(items):
        try:
            checked = _validate(index, item, today, known_ins)
        except ValueError as exc:
            rejected.append(ImportRejection(index, item.external_id, "BAD_USER_INPUT", str(exc)))
            continue
        valid.append(checked)
    for attempt in range(ATTEMPTS):
        try:
            result = await _write(access_log.actor, organization, valid, tries_of)
            break
        except (IntegrityError, _Race):
            if attempt == ATTEMPTS - 1:
                raise Conflict("A concurrent import changed the same items; try again") from None
    result.rejected = sorted(rejected + result.rejected, key=lambda r: r.index)
    return result


@dataclass(slots=True)
class _Target:
    """What the import needs to know of a record, and the sections it adds to it."""

    id: uuid.UUID
    status: str
    birth_date: dt.date
    sections: set[Section] = field(default_factory=set)


@dataclass(slots=True)
class _KnownKey:
    id: int
    entry_id: uuid.UUID
    content_hash: str


@dataclass(slots=True)
class _NewEntry:
    valid: _Valid
    id: uuid.UUID
    record_id: uuid.UUID
    supersedes: _KnownKey | None = None  # the key of the version it corrects


# --- The import's statements ---------------------------------------------------------
# Written out, one per table and batch: through the ORM, a model object per row cost more
# than the database work (docs/benchmarks.md, S4). A list travels as one parameter: an
# array on PostgreSQL, a JSON array on SQLite (whose number of parameters is bounded).

# On PostgreSQL the records are locked as they are read, so that a close (or any change of
# status) waits for the import or the import reads what it committed: a status checked here
# holds until the commit. In id order, as bulk.append_many and writer.append_all lock records,
# and before the import keys, so that no two of them wait on each other in a cycle.
_TARGETS = (
    'SELECT "ins", "id", "status", "birth_date" FROM "record" WHERE "ins" = ANY($1)'
    ' ORDER BY "id" FOR NO KEY UPDATE',
    'SELECT "ins", "id", "status", "birth_date" FROM "record"'
    ' WHERE "ins" IN (SELECT "value" FROM json_each(?1))',
)
# The keys of exactly the (INS, external id) pairs of the batch, one index probe each. On
# PostgreSQL they are locked, in the keys' order (two imports cannot deadlock on them): an
# import correcting an item waits for one correcting it already, then reads what that one
# committed, instead of failing its whole batch (SQLite's writers take turns anyway).
_KEYS = (
    'SELECT w."ins", w."external_id", k."id", k."entry_id", k."content_hash"'
    ' FROM unnest($2::text[], $3::text[]) AS w("ins", "external_id")'
    ' JOIN "record" r ON r."ins" = w."ins"'
    ' JOIN "import_key" k ON k."record_id" = r."id" AND k."organization" = $1'
    ' AND k."external_id" = w."external_id" ORDER BY k."id" FOR UPDATE OF k',
    "SELECT r.ins, k.external_id, k.id, k.entry_id, k.content_hash"
    " FROM json_each(?2) w JOIN record r ON r.ins = json_extract(w.value, '$[0]')"
    " JOIN import_key k ON k.record_id = r.id AND k.organization = ?1"
    " AND k.external_id = json_extract(w.value, '$[1]')",
)
# The section of the versions that changed items correct (a correction stays in it). A
# statement of its own, after the keys' locks: joined to them, it would read, on PostgreSQL,
# the version from before a concurrent correction it waited for, and drop the key.
_SECTIONS = (
    'SELECT "id", "section" FROM "entry" WHERE "id" = ANY($1)',
    'SELECT "id", "section" FROM "entry" WHERE "id" IN (SELECT "value" FROM json_each(?1))',
)
# On PostgreSQL, the entries and the keys of the new items in one statement; the keys in
# (record, external id) order, so two overlapping imports cannot deadlock on them (the
# external id compared byte by byte: any fixed order will do, and it sorts faster).
# A correction of a masked entry is masked too.
_ENTRIES_AND_KEYS = (
    'WITH u AS (SELECT * FROM unnest($1::uuid[], $2::uuid[], $3::text[], $4::text[], $5::text[],'
    ' $6::date[], $7::text[], $8::uuid[], $9::text[], $10::text[])'
    ' AS u("id", "record_id", "section", "code", "title", "care_date", "details",'
    ' "supersedes_id", "external_id", "content_hash")),'
    ' e AS (INSERT INTO "entry" ("id", "record_id", "section", "code", "title", "care_date",'
    ' "details", "masked", "supersedes_id", "external_id", "author_name", "organization",'
    ' "source", "superseded", "created_at")'
    ' SELECT u."id", u."record_id", u."section", u."code", u."title", u."care_date",'
    ' u."details"::jsonb, CASE WHEN u."supersedes_id" IS NULL THEN false ELSE COALESCE(('
    'SELECT s."masked" FROM "entry" s WHERE s."id" = u."supersedes_id"), false) END,'
    ' u."supersedes_id", u."external_id", $11::text, $11::text, $12::text, false,'
    ' $13::timestamptz FROM u)'
    ' INSERT INTO "import_key" ("record_id", "organization", "external_id", "entry_id",'
    ' "content_hash") SELECT u."record_id", $11::text, u."external_id", u."id", u."content_hash"'
    ' FROM u WHERE u."supersedes_id" IS NULL ORDER BY u."record_id", u."external_id" COLLATE "C"'
)
_SQLITE_ENTRIES = (
    'INSERT INTO "entry" ("id", "record_id", "section", "code", "title", "care_date", "details",'
    ' "masked", "supersedes_id", "external_id", "author_name", "organization", "source",'
    ' "superseded", "created_at") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7,'
    ' ?8 IS NOT NULL AND COALESCE((SELECT "masked" FROM "entry" WHERE "id" = ?8), 0),'
    ' ?8, ?9, ?10, ?10, ?11, 0, ?12)'
)
_SQLITE_KEYS = (
    'INSERT INTO "import_key" ("record_id", "organization", "external_id", "entry_id",'
    ' "content_hash") VALUES (?, ?, ?, ?, ?)'
)
_MOVE_KEY = (
    'UPDATE "import_key" SET "entry_id" = $1, "content_hash" = $2'
    ' WHERE "id" = $3 AND "entry_id" = $4 AND "content_hash" = $5',
    'UPDATE "import_key" SET "entry_id" = ?1, "content_hash" = ?2'
    ' WHERE "id" = ?3 AND "entry_id" = ?4 AND "content_hash" = ?5',
)
_SUPERSEDED = (
    'UPDATE "entry" SET "superseded" = true WHERE "id" = ANY($1)',
    'UPDATE "entry" SET "superseded" = 1 WHERE "id" IN (SELECT "value" FROM json_each(?1))',
)


def _new_ids(count: int) -> list[uuid.UUID]:
    """Random (version 4) UUIDs from one read of the system's randomness, not one per entry."""
    raw = os.urandom(16 * count)
    return [uuid.UUID(bytes=raw[i:i + 16], version=4) for i in range(0, 16 * count, 16)]


def _sqlite(conn: BaseDBAsyncClient) -> bool:
    return conn.capabilities.dialect == "sqlite"


async def _run(
    conn: BaseDBAsyncClient, statement: tuple[str, str], params: list[Any]
) -> tuple[int, list[Any]]:
    """Rows changed and rows returned by the statement written for this database."""
    if _sqlite(conn):
        # SQLite binds a UUID as its text, as the ORM stores it; a list as a JSON array.
        params = [
            json.dumps([str(v) for v in p]) if isinstance(p, list)
            else str(p) if isinstance(p, uuid.UUID) else p
            for p in params
        ]
        changed, found = await conn.execute_query(statement[1], params)
    else:
        changed, found = await conn.execute_query(statement[0], params)
    return changed, list(found)


def _uuid(value: Any) -> uuid.UUID:
    return value if isinstance(value, uuid.UUID) else uuid.UUID(value)


def _date(value: Any) -> dt.date:
    return value if isinstance(value, dt.date) else dt.date.fromisoformat(value)


async def _targets(conn: BaseDBAsyncClient, ins: list[str]) -> dict[str, _Target]:
    _, found = await _run(conn, _TARGETS, [ins])
    return {row[0]: _Target(_uuid(row[1]), row[2], _date(row[3])) for row in found}


async def _purged(conn: BaseDBAsyncClient, ins: set[str]) -> set[str]:
    """Of these INS without a record, those whose record was purged: an import does not open
    it again (DESIGN §2: deleted at the patient's request, or closed for ten years)."""
    if not ins:
        return set()
    macs = {mac: each for each in ins for mac in purged_ins_macs(each)}
    found = PurgedIdentity.filter(ins_mac__in=list(macs)).using_db(conn)
    return {macs[str(mac)] for mac in await found.values_list("ins_mac", flat=True)}


async def _import_keys(
    conn: BaseDBAsyncClient, organization: str, pairs: list[tuple[str, str]]
) -> dict[tuple[str, str], _KnownKey]:
    """The keys already stored for these (INS, external id) pairs."""
    if _sqlite(conn):
        _, found = await conn.execute_query(_KEYS[1], [organization, json.dumps(pairs)])
    else:
        _, found = await conn.execute_query(_KEYS[0], [
            organization, [ins for ins, _ in pairs], [external_id for _, external_id in pairs]
        ])
    return {(row[0], row[1]): _KnownKey(row[2], _uuid(row[3]), row[4]) for row in found}


async def _sections(
    conn: BaseDBAsyncClient, keys: dict[tuple[str, str], _KnownKey], valid: list[_Valid]
) -> dict[uuid.UUID, str]:
    """The section of each version that an item of the batch would correct."""
    corrected = [known.entry_id for v in valid
                 if (known := keys.get((v.ins, v.item.external_id))) is not None
                 and known.content_hash != v.content_hash]
    if not corrected:
        return {}
    _, found = await _run(conn, _SECTIONS, [corrected])
    return {_uuid(row[0]): row[1] for row in found}


async def _insert(
    conn: BaseDBAsyncClient, organization: str, now: dt.datetime, entries: list[_NewEntry]
) -> None:
    """The new entries, and the import keys of new items (a correction moves its key)."""
    if not entries:
        return
    source = EntrySource.INSURER.value
    if not _sqlite(conn):
        valid = [e.valid for e in entries]
        await conn.execute_query(_ENTRIES_AND_KEYS, [
            [e.id for e in entries], [e.record_id for e in entries],
            [v.item.section.value for v in valid], [v.code for v in valid],
            [v.title for v in valid], [v.item.date for v in valid],
            [v.details_json for v in valid],
            [e.supersedes.entry_id if e.supersedes else None for e in entries],
            [v.item.external_id for v in valid], [v.content_hash for v in valid],
            organization, source, now,
        ])
        return
    await conn.execute_many(_SQLITE_ENTRIES, [
        [str(e.id), str(e.record_id), e.valid.item.section.value, e.valid.code, e.valid.title,
         e.valid.item.date, e.valid.details_json,
         str(e.supersedes.entry_id) if e.supersedes else None, e.valid.item.external_id,
         organization, source, now]
        for e in entries
    ])
    keyed = sorted((e for e in entries if e.supersedes is None),
                   key=lambda e: (str(e.record_id), e.valid.item.external_id))
    await conn.execute_many(_SQLITE_KEYS, [
        [str(e.record_id), organization, e.valid.item.external_id, str(e.id), e.valid.content_hash]
        for e in keyed
    ])


async def _move_key(
    conn: BaseDBAsyncClient, known: _KnownKey, entry_id: uuid.UUID, content_hash: str
) -> bool:
    moved, _ = await _run(conn, _MOVE_KEY, [
        entry_id, content_hash, known.id, known.entry_id, known.content_hash,
    ])
    return moved == 1


async def _mark_superseded(conn: BaseDBAsyncClient, entry_ids: list[uuid.UUID]) -> None:
    if entry_ids:
        await _run(conn, _SUPERSEDED, [entry_ids])


# The rows activation.issue writes (a code, its e-mail), for all the records a batch sends one to.
_CODES = (
    'INSERT INTO "activation_code" ("id", "record_id", "code_hash", "issued_by", "expires_at",'
    ' "used_at", "tries", "created_at") SELECT u."id", u."record_id", u."code_hash", $4::text,'
    ' $5::timestamptz, NULL, 0, $6::timestamptz'
    ' FROM unnest($1::uuid[], $2::uuid[], $3::text[]) AS u("id", "record_id", "code_hash")',
    'INSERT INTO "activation_code" ("id", "record_id", "code_hash", "issued_by", "expires_at",'
    ' "used_at", "tries", "created_at") VALUES (?1, ?2, ?3, ?4, ?5, NULL, 0, ?6)',
)
_MAILS = (
    'INSERT INTO "outbox_message" ("id", "channel", "recipient", "subject", "body", "account_id",'
    ' "record_id", "created_at", "attempts", "next_attempt_at", "claimed_until", "sent_at",'
    ' "last_error", "urgent") SELECT u."id", $5::text, u."recipient", $6::text, u."body", NULL,'
    ' u."record_id", $7::timestamptz, 0, $7::timestamptz, NULL, NULL, NULL, false'
    ' FROM unnest($1::uuid[], $2::text[], $3::text[], $4::uuid[])'
    ' AS u("id", "recipient", "body", "record_id")',
    'INSERT INTO "outbox_message" ("id", "channel", "recipient", "subject", "body", "account_id",'
    ' "record_id", "created_at", "attempts", "next_attempt_at", "claimed_until", "sent_at",'
    ' "last_error", "urgent") VALUES (?1, ?5, ?2, ?6, ?3, NULL, ?4, ?7, 0, ?7, NULL, NULL, NULL, 0)',
)


# The activation e-mails an import sends to one address per UTC day, all batches and
# insurers together: a family address may receive the codes of its children, but a leaked or
# buggy token cannot make the service mail one address thousands of times. A record past it
# is opened and takes its items, without a code: a batch of a later day that gives the
# address sends it one (`activation.due_from_import`), as for a record whose code expired.
MAILS_PER_ADDRESS_PER_DAY = 10

# The counters of a batch (the addresses it would mail, the records that refused its items,
# its token's refused tries), each raised by the number asked for (asked, not done: the
# returned count less the batch's own is what was asked before it). On PostgreSQL in two
# statements, both in the keys' order: the missing rows are made first (without taking a
# value of the id sequence for a row already there), then every row is locked and counted.
# Locking the existing rows before making the missing ones, in one statement, deadlocked
# three batches: one waiting for a row a second had made, the third locking that row and
# waiting for a row the first had made.
_MAKE_COUNTERS = (
    'INSERT INTO "rate_counter" ("key", "window_start", "count")'
    ' SELECT u."key", $2::timestamptz, 0 FROM unnest($1::text[]) AS u("key") WHERE NOT EXISTS'
    ' (SELECT 1 FROM "rate_counter" c WHERE c."key" = u."key" AND c."window_start" = $2::timestamptz)'
    ' ORDER BY u."key" ON CONFLICT ("key", "window_start") DO NOTHING'
)
_COUNT_UP = (
    'WITH u AS (SELECT * FROM unnest($1::text[], $2::int[]) AS u("key", "asked")),'
    ' l AS (SELECT c."id" FROM "rate_counter" c WHERE c."key" = ANY($1::text[])'
    ' AND c."window_start" = $3::timestamptz ORDER BY c."key" FOR UPDATE)'
    ' UPDATE "rate_counter" c SET "count" = c."count" + u."asked" FROM u'
    ' WHERE c."id" IN (SELECT "id" FROM l) AND c."key" = u."key" RETURNING c."key", c."count"',
    # SQLite's writers take turns: the import's transaction holds the database's write lock.
    'INSERT INTO "rate_counter" ("key", "window_start", "count")'
    " SELECT json_extract(value, '$[0]'), $2, json_extract(value, '$[1]') FROM json_each($1)"
    ' WHERE true ON CONFLICT ("key", "window_start") DO UPDATE'
    ' SET "count" = "count" + excluded."count" RETURNING "key", "count"',
)


def _mail_counter(address: str) -> str:
    """The counter of an address's activation e-mails: a keyed hash, never the address."""
    return f"import-mail:{keyed_digest(f'import-mail:{address}')}"


async def _count_up(
    conn: BaseDBAsyncClient, asked: dict[str, int], window: dt.datetime
) -> dict[str, int]:
    """Raise each counter of `asked` by its number in `window`; the counts after. One statement
    for the batch (two on PostgreSQL), the counters locked in the keys' order."""
    counters = sorted(asked)
    numbers = [asked[key] for key in counters]
    if sql.is_sqlite(conn):
        rows = await sql.fetch(_COUNT_UP[1], [
            json.dumps([[k, n] for k, n in zip(counters, numbers, strict=True)]), window,
        ], conn)
    else:
        await sql.execute(_MAKE_COUNTERS, [counters, window], conn)
        rows = await sql.fetch(_COUNT_UP[0], [counters, numbers, window], conn)
    return {row[0]: int(row[1]) for row in rows}


async def _within_daily_bound(
    conn: BaseDBAsyncClient, due: list[tuple[uuid.UUID, str]]
) -> list[tuple[uuid.UUID, str]]:
    """Of the records due a code, those whose e-mail today's bound of its address still allows
    (MAILS_PER_ADDRESS_PER_DAY), in the order given; one statement for the batch (two on PostgreSQL)."""
    if not due:
        return []
    asked: dict[str, int] = {}
    for _, address in due:
        asked[address] = asked.get(address, 0) + 1
    keys = {address: _mail_counter(address) for address in asked}
    count = await _count_up(conn, {keys[a]: n for a, n in asked.items()}, utc_day())
    left = {a: max(0, MAILS_PER_ADDRESS_PER_DAY - (count[keys[a]] - asked[a])) for a in asked}
    allowed = []
    for record_id, address in due:
        if left[address] > 0:
            left[address] -= 1
            allowed.append((record_id, address))
    return allowed


def _denied_counter(organization: str, record_id: uuid.UUID) -> str:
    """The counter of an organization's denied imports on a record (its name as a keyed hash)."""
    return f"import-denied:{record_id}:{keyed_digest(f'import-denied:{organization}')[:32]}"


_COUNTS = (
    'SELECT "key", "count" FROM "rate_counter" WHERE "key" = ANY($1) AND "window_start" = $2',
    'SELECT "key", "count" FROM "rate_counter"'
    ' WHERE "key" IN (SELECT "value" FROM json_each(?1)) AND "window_start" = ?2',
)


async def _refusing_today(
    conn: BaseDBAsyncClient, organization: str, records: list[uuid.UUID]
) -> set[uuid.UUID]:
    """Of these existing records, those whose denied attempts of the organization today are
    used up (DENIED_EVENTS_PER_RECORD_PER_DAY): they refuse its items until the day ends. Read
    with the records locked (on SQLite, the import holds the write lock): a batch on one of
    them after this one reads what it counted."""
    if not records:
        return set()
    keys = {_denied_counter(organization, record_id): record_id for record_id in records}
    _, found = await _run(conn, _COUNTS, [list(keys), utc_day()])
    return {keys[row[0]] for row in found if int(row[1]) >= DENIED_EVENTS_PER_RECORD_PER_DAY}


_CAP = (
    'UPDATE "rate_counter" SET "count" = $3 WHERE "key" = $1 AND "window_start" = $2 AND "count" > $3',
    'UPDATE "rate_counter" SET "count" = ?3 WHERE "key" = ?1 AND "window_start" = ?2 AND "count" > ?3',
)


async def _count_tries(conn: BaseDBAsyncClient, tries_of: str, tries: int) -> None:
    """Raise the token's refused tries of this hour by the batch's, up to REFUSED_TRIES_PER_HOUR:
    in the batch's transaction, so a batch rolled back counts nothing; the batch is answered
    whatever the count (the next ones are refused until the hour ends)."""
    hour = utc_hour()
    counted = await _count_up(conn, {tries_of: tries}, hour)
    if counted[tries_of] > REFUSED_TRIES_PER_HOUR:
        await _run(conn, _CAP, [tries_of, hour, REFUSED_TRIES_PER_HOUR])


async def _within_denied_bound(
    conn: BaseDBAsyncClient, organization: str, denied: dict[uuid.UUID, tuple[str, set[Section]]]
) -> dict[uuid.UUID, tuple[str, set[Section]]]:
    """Of the records that refused items, those whose denied attempt today's bound of the
    organization on it (DENIED_EVENTS_PER_RECORD_PER_DAY) still lets write, in the order given."""
    if not denied:
        return {}
    keys = {record_id: _denied_counter(organization, record_id) for record_id in denied}
    count = await _count_up(conn, dict.fromkeys(keys.values(), 1), utc_day())
    return {record_id: why for record_id, why in denied.items()
            if count[keys[record_id]] <= DENIED_EVENTS_PER_RECORD_PER_DAY}


async def _send_activation_codes(
    conn: BaseDBAsyncClient, organization: str, due: list[tuple[uuid.UUID, str]]
) -> None:
    """A code for each of these records, e-mailed to its address: the rows activation.issue
    writes, in two statements for the batch. Issued a record at a time, that was four
    statements a record (5,000 new patients: 20,000 statements and 14-18 s, the records
    locked). The records were created in this transaction, or activation.due_from_import
    ended their earlier codes, the records locked: there is no activation or deletion since
    to look for."""
    if not due:
        return
    now = clock.now()
    ids = _new_ids(2 * len(due))
    code_ids, mail_ids = ids[::2], ids[1::2]
    codes = [activation.new_activation_code() for _ in due]
    hashes = [activation.code_hash(code, row_id) for code, row_id in zip(codes, code_ids, strict=True)]
    until = now + activation.VALIDITY
    bodies = [activation.email_body(code, until) for code in codes]
    records = [record_id for record_id, _ in due]
    recipients = [to for _, to in due]
    constants = [organization, until, now]
    mail = [OutboxChannel.EMAIL.value, activation.EMAIL_SUBJECT, now]
    if not _sqlite(conn):
        await conn.execute_query(_CODES[0], [code_ids, records, hashes, *constants])
        await conn.execute_query(_MAILS[0], [mail_ids, recipients, bodies, records, *mail])
        return
    await conn.execute_many(_CODES[1], [
        [str(i), str(r), h, *constants] for i, r, h in zip(code_ids, records, hashes, strict=True)])
    await conn.execute_many(_MAILS[1], [
        [str(i), to, body, str(r), *mail]
        for i, to, body, r in zip(mail_ids, recipients, bodies, records, strict=True)])


def _contacts_offered(
    valid: list[_Valid], records: dict[str, _Target], new_records: dict[str, Record],
    keys: dict[tuple[str, str], _KnownKey],
) -> dict[uuid.UUID, list[str]]:
    """The addresses the batch gives each PENDING record it did not open, in the batch's order
    and once each: those on the patient's items the record takes as theirs (its birth date;
    not an item refused for an invisible character in a new external id). Which of them
    counts depends on the record's contact (`activation.due_from_import`), not on its place."""
    offered: dict[uuid.UUID, list[str]] = {}
    for v in valid:
        if not v.item.contact_email or v.ins in new_records:
            continue
        record = records.get(v.ins)
        if (record is None or record.status != RecordStatus.PENDING.value
                or record.birth_date != v.item.birth_date
                or (v.hidden_id and (v.ins, v.item.external_id) not in keys)):
            continue
        address = normalize_email(v.item.contact_email)  # _validate refused any it cannot read
        if address is not None:
            given = offered.setdefault(record.id, [])
            if address not in given:
                given.append(address)
    return offered


async def _write(
    actor: Actor, organization: str, valid: list[_Valid], tries_of: str | None = None
) -> ImportResult:
    result = ImportResult()
    if not valid:
        return result
    now = clock.now()
    async with in_transaction() as conn:
        records = await _targets(conn, sorted({v.ins for v in valid}))
        refusing = await _refusing_today(conn, organization, [r.id for r in records.values()])
        purged = await _purged(conn, {v.ins for v in valid} - records.keys())
        new_records: dict[str, Record] = {}
        for v in valid:
            if v.ins in records or v.ins in purged or v.hidden_id:  # a new record's items are new
                continue
            opening = new_records.get(v.ins)
            if opening is not None:
                # The address may come on any item of the patient, not only the first: the
                # first given by an item the record accepts (its birth date) is the one kept.
                if (opening.pending_contact is None and v.item.contact_email
                        and v.item.birth_date == opening.birth_date):
                    opening.pending_contact = normalize_email(v.item.contact_email)
                continue
            new_records[v.ins] = Record(
                id=uuid.uuid4(), ins=v.ins, first_name=v.item.first_name.strip(),
                last_name=v.item.last_name.strip(), birth_date=v.item.birth_date,
                status=RecordStatus.PENDING, created_at=now,
                # Kept as sign-up keeps an address (NFC, lower case): the activation e-mail
                # and support's resend go there. _validate refused any it cannot normalise.
                pending_contact=normalize_email(v.item.contact_email) if v.item.contact_email else None,
            )
        if new_records:
            # In INS order, so two imports opening the same records cannot deadlock.
            in_order = [new_records[ins] for ins in sorted(new_records)]
            await Record.bulk_create(in_order, batch_size=1000, using_db=conn)
            for new in in_order:
                records[new.ins] = _Target(new.id, RecordStatus.PENDING.value, new.birth_date)

        pairs = list(dict.fromkeys((v.ins, v.item.external_id) for v in valid))
        keys = await _import_keys(conn, organization, pairs)
        sections = await _sections(conn, keys, valid) if keys else {}
        entries: list[_NewEntry] = []
        # The reason and the sections of the items each existing record refused: one denied
        # attempt a record in its history (DESIGN §4). Not for input errors, nor for a record
        # this batch opens (the batch's own items disagree) or a purged one (there is no record
        # to write on). One reason a record: its state is read once, its row locked, for the
        # batch, and a closed or deleted record refuses every item before its birth date is
        # compared; so a record never refuses items for two reasons in one batch.
        denied: dict[uuid.UUID, tuple[str, set[Section]]] = {}
        # The (record, birth date) pairs existing records refused: the tries of REFUSED_TRIES_PER_HOUR.
        tries: set[tuple[uuid.UUID, dt.date]] = set()
        # The content each key has once the batch's earlier items are written: an item sent
        # again later in the batch is then answered as a later batch would answer it.
        in_batch: dict[tuple[str, str], str] = {}
        # An existing record given more than one birth date by the batch refuses all its items:
        # answered item by item, 31 dates in one batch found the right one for one noted attempt.
        given: dict[str, set[dt.date]] = {}
        for v in valid:
            given.setdefault(v.ins, set()).add(v.item.birth_date)
        # Every item of such a record is answered alike, whatever its date: one message that
        # the record's date would be picked out from.
        mixed = {ins for ins, dates in given.items() if len(dates) > 1 and ins not in new_records}
        for v in valid:
            pair = (v.ins, v.item.external_id)
            if v.hidden_id and pair not in keys:
                # Two ids that show alike would be two keys; one stored so before stays matched.
                result.rejected.append(ImportRejection(
                    v.index, v.item.external_id, "BAD_USER_INPUT",
                    f"the externalId of item {v.index} holds an invisible character (a control,"
                    " format such as zero-width or direction, private-use or unassigned one)",
                ))
                continue
            record = records.get(v.ins)
            if record is not None and record.id in refusing:
                # Whatever the item (its birth date the record's or not): no event, one message.
                result.rejected.append(ImportRejection(
                    v.index, v.item.external_id, "FORBIDDEN", REFUSED_TODAY))
                tries.add((record.id, v.item.birth_date))
                continue
            if record is None or record.status in CLOSED:  # None: its record was purged
                result.rejected.append(ImportRejection(
                    v.index, v.item.external_id, "FORBIDDEN", "The record is closed or deleted"
                ))
                if record is not None:
                    deleting = record.status == RecordStatus.DELETED.value
                    why = reasons.IMPORT_REFUSED_DELETION if deleting else reasons.IMPORT_REFUSED_CLOSED
                    denied.setdefault(record.id, (why, set()))[1].add(v.item.section)
                    tries.add((record.id, v.item.birth_date))
                continue
            if v.ins in mixed or record.birth_date != v.item.birth_date:
                result.rejected.append(ImportRejection(
                    v.index, v.item.external_id, "BAD_USER_INPUT",
                    MIXED_BIRTH_DATES if v.ins in mixed
                    else "birthDate does not match the record of this INS",
                ))
                if v.ins not in new_records:
                    denied.setdefault(record.id, (reasons.IMPORT_REFUSED_IDENTITY, set()))[1].add(
                        v.item.section)
                    tries.add((record.id, v.item.birth_date))
                continue
            if (earlier := in_batch.get(pair)) is not None:
                if earlier == v.content_hash:
                    result.unchanged += 1
                else:
                    # Which of the two would be the correction? A later batch says it.
                    result.rejected.append(ImportRejection(
                        v.index, v.item.external_id, "CONFLICT",
                        "externalId appears twice in this batch with different content; "
                        "send the correction in a later batch",
                    ))
                continue
            known = keys.get(pair) if keys else None
            if (known is not None and known.content_hash != v.content_hash
                    and (section := sections[known.entry_id]) != v.item.section.value):
                # It would take the entry out of its section; addEntry refuses it alike.
                result.rejected.append(ImportRejection(
                    v.index, v.item.external_id, "BAD_USER_INPUT",
                    f"this externalId was imported in {section}: a correction stays in "
                    "the section of the entry it corrects",
                ))
                continue
            in_batch[pair] = v.content_hash
            if known is None:
                result.created += 1
            elif known.content_hash == v.content_hash:
                result.unchanged += 1
                continue
            else:
                result.corrected += 1
            # A correction's id comes after the version it replaces (ids.entry_id).
            new_id = entry_id(after=known.entry_id if known is not None else None)
            entries.append(_NewEntry(v, new_id, record.id, known))
            record.sections.add(v.item.section)

        if tries and tries_of is not None:
            await _count_tries(conn, tries_of, len(tries))
        corrections = [(e, e.supersedes) for e in entries if e.supersedes is not None]
        await _insert(conn, organization, now, entries)
        # Each key moves only from the version this import read (on SQLite, and on PostgreSQL
        # where the keys are locked as they are read, no other import can have moved it; kept
        # as a check): otherwise the batch is retried against what the other one committed.
        for e, known in sorted(corrections, key=lambda c: c[1].id):
            if not await _move_key(conn, known, e.id, e.valid.content_hash):
                raise _Race
        await _mark_superseded(conn, [known.entry_id for _, known in corrections])
        due = [(r.id, r.pending_contact) for r in new_records.values() if r.pending_contact]
        # A record refusing the organization today takes no address from its items either.
        # Nor one given two birth dates by the batch: its items were all refused alike.
        offering = {ins: r for ins, r in records.items() if r.id not in refusing and ins not in mixed}
        due += await activation.due_from_import(conn, _contacts_offered(valid, offering, new_records, keys))
        await _send_activation_codes(conn, organization, await _within_daily_bound(conn, due))
        # One event per record touched; a record this import opened says so in its reason.
        events = []
        for ins, record in records.items():
            if record.sections or ins in new_records:
                event = PendingEvent(record.id, AccessAction.ENTRIES_IMPORTED,
                                     reason=reasons.OPENED_BY_IMPORT if ins in new_records else "")
                event.add(AccessMode.INSURER, record.sections)
                events.append(event)
        # Then one denied attempt per existing record that refused items, after its import's
        # event where it has one, with the sections they were for (as a refused addEntry) and
        # why, as the patient reads it: closed, deletion requested, or another birth date;
        # within the organization's DENIED_EVENTS_PER_RECORD_PER_DAY on the record.
        for record_id, (why, refused) in (await _within_denied_bound(conn, organization, denied)).items():
            event = PendingEvent(record_id, AccessAction.ACCESS_DENIED, reason=why)
            event.add(AccessMode.INSURER, refused)
            events.append(event)
        try:
            await bulk.append_in_order(conn, actor, events)
        except IntegrityError as exc:
            # Not a concurrent import (the records' rows are locked): nothing to retry.
            raise AccessNotRecorded("the import's access events could not be written") from exc
    return result
