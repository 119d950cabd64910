"""Activation codes: how a PENDING record, opened after an identity check, is activated.

The code is long (60 bits, grouped for reading aloud), stored hashed, single use, and
expires; a new code replaces the previous ones.
"""

from __future__ import annotations

import secrets
import uuid
from datetime import timedelta

from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.expressions import F

from backend import clock
from backend.auth.secrets_util import code_digest, same
from backend.domain.enums import RecordStatus
from backend.errors import Conflict
from backend.models import ActivationCode, Record
from backend.notify.outbox import enqueue_email, enqueue_sms

ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I/L
VALIDITY = timedelta(days=30)
MAX_TRIES = 5


def normalize_code(raw: str) -> str:
    return "".join(ch for ch in raw.upper() if ch.isalnum())


# The activation code's e-mail (an insurer's import writes the same for a whole batch).
EMAIL_SUBJECT = "Activez votre Dossier Médical Partagé"


def email_body(code: str) -> str:
    return (
        "Un Dossier Médical Partagé a été ouvert à votre nom.\n"
        f"Votre code d'activation : {code}\n"
        "Il est valable 30 jours. Activez votre dossier sur le site du DMP avec votre INS "
        "et ce code.\n"
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
            send_to, EMAIL_SUBJECT, email_body(code), record_id=record.id, using_db=using_db
        )
    if text_to:
        await enqueue_sms(
            text_to,
            f"DMP : votre code d'activation est {code}. Valable 30 jours. Activez votre dossier "
            "sur le site du DMP avec votre INS.",
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
