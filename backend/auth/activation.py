"""Activation codes: how a PENDING record, opened after an identity check, is activated.

The code is long (60 bits, grouped for reading aloud), stored hashed, single use, and
expires; a new code replaces the previous ones.
"""

from __future__ import annotations

import json
import secrets
import uuid
from datetime import datetime, timedelta

from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.expressions import F

from backend import clock, sql
from backend.auth.limits import utc_day
from backend.auth.secrets_util import code_digest, same
from backend.config import settings
from backend.domain.enums import RecordStatus
from backend.errors import Conflict
from backend.models import ActivationCode, Record
from backend.notify.notices import when
from backend.notify.outbox import enqueue_email, enqueue_sms

ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I/L
VALIDITY = timedelta(days=30)
MAX_TRIES = 5


def normalize_code(raw: str) -> str:
    return "".join(ch for ch in raw.upper() if ch.isalnum())


# The activation code's e-mail (an insurer's import writes the same for a whole batch): where
# to type it, with which number (as the activation page names it), and until when it works, as
# a moment: it may be read days after it was sent.
EMAIL_SUBJECT = "DMP : activez votre dossier médical partagé"


def activation_link() -> str:
    return f"{settings().public_origin}/activation"


def email_body(code: str, until: datetime) -> str:
    return (
        "Bonjour,\n\n"
        "Un dossier médical partagé (DMP) a été ouvert à votre nom.\n"
        f"Votre code d'activation : {code}\n"
        f"Il est valable jusqu'au {when(until)}.\n\n"
        f"Activez votre dossier sur la page {activation_link()} avec votre numéro de sécurité "
        "sociale (INS, 15 caractères, inscrit sur votre carte Vitale) et ce code.\n"
    )


def code_hash(code: str, row_id: uuid.UUID | str) -> str:
    """What an activation code's row keeps of it (and what a code typed is compared by)."""
    return code_digest(normalize_code(code), str(row_id))


def new_activation_code() -> str:
    raw = "".join(secrets.choice(ALPHABET) for _ in range(12))
    return f"{raw[:4]}-{raw[4:8]}-{raw[8:]}"


async def issue(record: Record, issued_by: str, *, send_to: str | None = None,
                text_to: str | None = None,
                using_db: BaseDBAsyncClient | None = None) -> tuple[str, ActivationCode]:
    """A fresh activation code for a PENDING record; earlier codes stop working.

    With send_to (an e-mail address the issuer holds), the code is also e-mailed there; with
    text_to (a phone number, normalized), texted there.

    Called under the record's lock (`AccessLog.changing`), or in the transaction that creates
    the record: the record is read again there, and one activated, deleted or purged since the
    caller looked at it gets no code (CONFLICT, nothing written).
    """
    await _still_as_seen(record, using_db)
    await ActivationCode.filter(record_id=record.id, used_at=None).using_db(using_db).update(
        used_at=clock.now()
    )
    code = new_activation_code()
    row_id = uuid.uuid4()
    row = await ActivationCode.create(
        using_db=using_db,
        id=row_id,
        record_id=record.id,
        code_hash=code_hash(code, row_id),
        issued_by=issued_by,
        expires_at=clock.now() + VALIDITY,
    )
    if send_to:
        await enqueue_email(
            send_to, EMAIL_SUBJECT, email_body(code, row.expires_at), record_id=record.id,
            using_db=using_db,
        )
    if text_to:
        await enqueue_sms(
            text_to,
            f"DMP : votre code d'activation est {code}, valable jusqu'au "
            f"{when(row.expires_at, zone_named=False)}. Activez votre dossier sur "
            f"{activation_link()} avec votre INS (numéro de sécurité sociale).",
            record_id=record.id, using_db=using_db,
        )
    return code, row


RECOVERY_ISSUER = "contact-recovery"
# What the caller is told when the record is no longer one a code may be issued for.
NOT_ISSUABLE = "The record changed meanwhile (activated, closed or removed); look it up again"


async def recovery_open(record: Record) -> bool:
    """Support opened a contact recovery for this record, and it has not expired."""
    return await ActivationCode.filter(
        record_id=record.id, issued_by__startswith=RECOVERY_ISSUER, used_at=None,
        expires_at__gt=clock.now(),
    ).exists()


async def _still_as_seen(record: Record, using_db: BaseDBAsyncClient | None) -> None:
    """The record's status and owner, read in the caller's transaction, are still those the
    caller decided on: a PENDING record activated meanwhile would get a live code on an owned
    record, which `createRecord` takes for a contact recovery."""
    rows = await Record.filter(id=record.id).using_db(using_db).values_list("status", "owner_id")
    seen_owner = record.owner_id  # type: ignore[attr-defined]
    if rows:
        status, owner_id = rows[0]
        if (RecordStatus(status) == RecordStatus(record.status)
                and str(owner_id or "") == str(seen_owner or "")
                and status != RecordStatus.DELETED):
            return
    raise Conflict(NOT_ISSUABLE)


async def check(record: Record | None, code: str) -> ActivationCode | None:
    """The live activation code of this record that matches, counting the try; else None."""
    if record is None:
        # Same work as a real check, so timing does not reveal whether the record exists.
        code_hash(code, uuid.uuid4())
        return None
    now = clock.now()
    row = await ActivationCode.filter(
        record_id=record.id, used_at=None, expires_at__gt=now
    ).order_by("-created_at").first()
    if row is None:
        code_hash(code, uuid.uuid4())
        return None
    # The try is counted only while tries are left, in one statement: parallel tries cannot
    # pass the limit between a read of the count and its update.
    counted = await ActivationCode.filter(id=row.id, tries__lt=MAX_TRIES).update(tries=F("tries") + 1)
    if not counted:
        return None
    if not same(row.code_hash, code_hash(code, row.id)):
        return None
    return row


# --- An import's code for a PENDING record it did not open ---------------------------------
# The insurer's batches come again and again (a job re-run every hour, a partner's retries):
# one would mail the patient, and replace the code they are about to type, at every run. A
# record gets a code from an import only when it holds no code that still works (unused,
# unexpired, tries left: support's `resendActivation` alone replaces a live one) and none was
# issued today (UTC), by anyone: at most one activation e-mail a record and day, the code the
# import opened the record with included.

# The records of the batch that may get a code now, with their contacts on file: one statement
# for the whole batch, under the records' locks the import took.
_DUE = (
    'SELECT r."id", r."pending_contact", r."pending_phone" FROM "record" r'
    ' WHERE r."id" = ANY($1::uuid[]) AND r."status" = $2 AND r."owner_id" IS NULL'
    ' AND NOT EXISTS (SELECT 1 FROM "activation_code" c WHERE c."record_id" = r."id"'
    ' AND (c."created_at" >= $3 OR (c."used_at" IS NULL AND c."expires_at" > $4 AND c."tries" < $5)))',
    'SELECT r."id", r."pending_contact", r."pending_phone" FROM "record" r'
    ' WHERE r."id" IN (SELECT "value" FROM json_each($1)) AND r."status" = $2 AND r."owner_id" IS NULL'
    ' AND NOT EXISTS (SELECT 1 FROM "activation_code" c WHERE c."record_id" = r."id"'
    ' AND (c."created_at" >= $3 OR (c."used_at" IS NULL AND c."expires_at" > $4 AND c."tries" < $5)))',
)
# A record without any contact takes the address its batch gives (checked again here).
_ADOPT = (
    'UPDATE "record" SET "pending_contact" = u."contact" FROM unnest($1::uuid[], $2::text[])'
    ' AS u("id", "contact") WHERE "record"."id" = u."id"'
    ' AND "record"."pending_contact" IS NULL AND "record"."pending_phone" IS NULL',
    'UPDATE "record" SET "pending_contact" = $2 WHERE "id" = $1'
    ' AND "pending_contact" IS NULL AND "pending_phone" IS NULL',
)
# The codes that no longer work (expired, or their tries used up) end, as `issue` ends them.
_END = (
    'UPDATE "activation_code" SET "used_at" = $2 WHERE "record_id" = ANY($1::uuid[]) AND "used_at" IS NULL',
    'UPDATE "activation_code" SET "used_at" = $2'
    ' WHERE "record_id" IN (SELECT "value" FROM json_each($1)) AND "used_at" IS NULL',
)


async def due_from_import(
    conn: BaseDBAsyncClient, offered: dict[uuid.UUID, list[str]]
) -> list[tuple[uuid.UUID, str]]:
    """Of the PENDING records a batch gives addresses for (record → its addresses, as stored,
    in the batch's order), those to which the import now sends a new code, and where.

    A record with no contact on file (no address, no phone) takes the first address; one whose
    address is among them gets a new code there, wherever it comes in the batch (as it would
    if the batch were sent as two); one with another contact keeps it and gets nothing. In
    every case only when the record holds no working code and got none today. The records'
    earlier codes end here; the caller writes the codes and their e-mails.
    """
    if not offered:
        return []
    sqlite = sql.is_sqlite(conn)
    ids = json.dumps([str(i) for i in offered]) if sqlite else list(offered)
    now = clock.now()
    rows = await sql.fetch(_DUE[1 if sqlite else 0], [
        ids, RecordStatus.PENDING.value, utc_day(), now, MAX_TRIES,
    ], conn)
    due: list[tuple[uuid.UUID, str]] = []
    adopted: list[tuple[uuid.UUID, str]] = []
    for row in rows:
        record_id = uuid.UUID(str(row[0]))
        address, phone = row[1], row[2]
        given = offered[record_id]
        if address is None and phone is None:
            adopted.append((record_id, given[0]))
            due.append((record_id, given[0]))
        elif address in given:
            due.append((record_id, address))
        # else another contact on file: it is not replaced, nor written to
    if not due:
        return []
    if adopted and sqlite:
        await conn.execute_many(sql.text_for(conn, _ADOPT[1]), [[str(i), to] for i, to in adopted])
    elif adopted:
        await sql.execute(_ADOPT[0], [[i for i, _ in adopted], [to for _, to in adopted]], conn)
    ending = json.dumps([str(i) for i, _ in due]) if sqlite else [i for i, _ in due]
    await sql.execute(_END[1 if sqlite else 0], [ending, now], conn)
    return due
