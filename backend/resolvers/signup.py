"""Opening and activating a record (DESIGN §2, identity proof).

A practitioner opens a PENDING record after checking the patient's identity and hands over
an activation code; the patient activates it with INS + code + contacts + password. Without
a valid code, every failure gives the same answer after the same time, and no password hash.
"""

from __future__ import annotations

import datetime as dt
import time
import unicodedata
import uuid
from dataclasses import dataclass
from typing import Any, NoReturn

from tortoise.exceptions import IntegrityError

from backend import clock, sql
from backend.accounts import OLDEST_BIRTH_DATE, person_name
from backend.audit import reasons
from backend.audit.chain import purged_ins_macs
from backend.audit.writer import Actor
from backend.auth import activation, attempts, limits
from backend.auth.codes import send_code
from backend.auth.contacts import mask_email, mask_phone, normalize_phone, storable_email, texts_are_sent
from backend.auth.passwords import WeakPassword, check_strength, hash_password
from backend.auth.sessions import revoke_all
from backend.domain.enums import AccessAction, AccessMode, CodeChannel, CodePurpose, RecordStatus, Role
from backend.domain.reasons import Reason
from backend.errors import BadUserInput, Conflict, Forbidden, Unauthenticated, answer_no_sooner
from backend.models import (
    Account,
    ActivationCode,
    BlockedPractitioner,
    PasskeyChallenge,
    PasskeyCredential,
    PurgedIdentity,
    Record,
)
from backend.models.accounts import DISPLAY_NAME_MAX
from backend.ratelimit import limit_address
from backend.resolvers.arguments import ins_argument
from backend.resolvers.auth import texts_needed
from backend.resolvers.context import Context
from backend.resolvers.login import SignedIn, redeem_code, signed_in
from backend.resolvers.records import count_refusal

NOT_ACTIVATED = "The INS or the activation code is not valid, or the code has expired"

# Calls of openRecordForPatient per practitioner (their partner tokens count with them) and
# hour, counted before the record is looked up, whatever follows: a new record, a new code, a
# refusal. A practice opens a few records a day, at the desk, a patient in front of it: thirty
# an hour leaves room for a vaccination day's queue and for retyped identities. Without a
# bound, one account (a compromised partner app) would open pending records for any INS under
# made-up identities, holding their codes while the real patients are refused
# (IDENTITY_MISMATCH) and their insurer's imports turned away. Past it: RATE_LIMITED, nothing
# looked up or written, the same answer whatever the INS.
OPENINGS_PER_HOUR = 30
TOO_MANY_OPENINGS = "Too many records opened this hour; try again later"


@dataclass
class RecordOpened:
    ins: str
    activation_code: str
    expires_at: dt.datetime
    sent_to: str | None


@dataclass
class RecordCreated:
    attempt_token: str
    sent_to: str


def _name(raw: str, what: str, field: str) -> str:
    # As it shows (the patient's history, the practitioners' pages): composed, without direction
    # controls (U+202E) or zero-width characters; a name of those alone is no name.
    value = person_name(raw or "")
    if not value or len(value) > 100:
        raise BadUserInput.text(f"The {what} is required (at most 100 characters)", value, field, 100)
    return value


def _comparable(name: str) -> str:
    """A name as compared with the one on file: without accents, case, or the separators
    typed differently from one desk to another (« Jean-Pierre » and « JEAN PIERRE »)."""
    plain = "".join(c for c in unicodedata.normalize("NFKD", name) if not unicodedata.combining(c))
    return " ".join("".join(c if c.isalnum() else " " for c in plain.casefold()).split())


def _same_identity(record: Record, first: str, last: str, birth_date: dt.date) -> bool:
    return (
        record.birth_date == birth_date
        and _comparable(record.first_name) == _comparable(first)
        and _comparable(record.last_name) == _comparable(last)
    )


async def open_record_for_patient(
    ctx: Context, ins: str, first_name: str, last_name: str, birth_date: dt.date,
    email: str | None, phone: str | None,
) -> RecordOpened:
    viewer = ctx.viewer
    if not viewer.authenticated:
        raise Unauthenticated()
    by_token_without_scope = viewer.token_id is not None and "practitioner" not in viewer.scopes
    if viewer.role != Role.PRACTITIONER or by_token_without_scope:
        raise Forbidden("Only a practitioner may open a record for a patient")
    ins = ins_argument(ins)
    first, last = _name(first_name, "first name", "firstName"), _name(last_name, "last name", "lastName")
    if birth_date > clock.latest_today():
        raise BadUserInput("The birth date is in the future", Reason.DATE_IN_FUTURE, field="birthDate")
    if birth_date < OLDEST_BIRTH_DATE:  # as create-account and the insurer's import
        raise BadUserInput("The birth date is too far in the past", Reason.DATE_TOO_OLD, field="birthDate")
    send_email = storable_email(email) if email else None
    if email and send_email is None:
        raise BadUserInput("Invalid e-mail address", Reason.INVALID_EMAIL)
    send_phone = normalize_phone(phone) if phone else None
    if phone and send_phone is None:
        raise BadUserInput("Invalid phone number", Reason.INVALID_PHONE)
    profession = f" ({viewer.profession.value if viewer.profession else 'practitioner'})"
    issued_by = viewer.display_name[:DISPLAY_NAME_MAX - len(profession)] + profession  # its column's size
    # The contacts given at the point of care replace those on file: support sends a new
    # code only there (`resendActivation`).
    given: dict[str, Any] = {"pending_contact": send_email} if send_email else {}
    if send_phone:
        given["pending_phone"] = send_phone
    opening = f"record-opening:{viewer.practitioner_id}"
    await limits.require(opening, limits.utc_hour(), OPENINGS_PER_HOUR, TOO_MANY_OPENINGS, window=limits.HOUR)
    found = await _record_for_opening(ins, viewer.practitioner_id)
    if found is None:
        try:
            record = await Record.create(
                ins=ins, first_name=first, last_name=last, birth_date=birth_date,
                status=RecordStatus.PENDING, **given,
            )
            given = {}  # written with the record
            # The patient is at the point of care: a purge of an earlier record of theirs no
            # longer keeps imports out (an insurer's items now go to this record).
            await PurgedIdentity.filter(ins_mac__in=purged_ins_macs(ins)).delete()
        except IntegrityError:  # opened at the same moment elsewhere
            found = await _record_for_opening(ins, viewer.practitioner_id)
            if found is None:
                raise
    if found is not None:
        record, recovery_open, blocked = found
        # A practitioner the patient blocked is not handed a recovery's code (DESIGN §3, rule 6).
        if record.status != RecordStatus.PENDING and (not recovery_open or blocked):
            await _refuse_existing(ctx, record)
    if not _same_identity(record, first, last, birth_date):
        # A record opened by an import, or earlier at another desk, for another person: a new
        # code would hand its content to whoever activates it (DESIGN §2, an INS is not enough).
        await _refuse(ctx, record, reasons.OTHER_IDENTITY)
        raise BadUserInput(
            "The name or birth date differs from the record of this INS; check the INS and the identity",
            Reason.IDENTITY_MISMATCH,
        )
    try:
        async with ctx.access_log.changing(record.id) as conn:
            if record.status != RecordStatus.PENDING and await _blocked(record, viewer.practitioner_id, conn):
                raise _BlockedMeanwhile  # the transaction ends; the refusal is counted outside it
            if given:
                await Record.filter(id=record.id).using_db(conn).update(**given)
            # A text the service does not send (no SMS plug-in) is neither queued nor claimed, as
            # in support's `resendActivation`: the practitioner hands over the code in the answer.
            texted = send_phone if send_phone and texts_are_sent() else None
            code, row = await activation.issue(
                record, issued_by, send_to=send_email, text_to=texted, using_db=conn
            )
            await ctx.access_log.record_change(
                record.id, AccessAction.RECORD_OPENED, reason=reasons.IDENTITY_CHECKED
            )
    except _BlockedMeanwhile:
        await _refuse_existing(ctx, record)
    sent_to = mask_email(send_email) if send_email else mask_phone(texted) if texted else None
    return RecordOpened(ins, code, row.expires_at, sent_to)


async def _blocked(record: Record, practitioner_id: Any, conn: Any = None) -> bool:
    query = BlockedPractitioner.filter(record_id=record.id, practitioner_id=practitioner_id)
    return await (query.using_db(conn) if conn is not None else query).exists()


class _BlockedMeanwhile(Exception):
    """A block committed since the first decision: the opening's transaction rolls back."""


# The record of an INS with what the opening decides on, in one statement whatever the record
# (its status, a contact recovery open, the caller blocked), so that every refusal on an
# existing record runs the same statements before it is counted (`_refuse`).
_RECORD_FOR_OPENING = (
    'SELECT r.*, EXISTS(SELECT 1 FROM "activation_code" c WHERE c."record_id" = r."id"'
    ' AND c."issued_by" LIKE $2 AND c."used_at" IS NULL AND c."expires_at" > $3) AS "recovery_open",'
    ' EXISTS(SELECT 1 FROM "blocked_practitioner" b WHERE b."record_id" = r."id"'
    ' AND b."practitioner_id" = $4) AS "is_blocked"'
    ' FROM "record" r WHERE r."ins" = $1'
)


async def _record_for_opening(ins: str, practitioner_id: Any) -> tuple[Record, bool, bool] | None:
    """The record of `ins`, whether a contact recovery is open on it (`activation.recovery_open`)
    and whether its patient blocked the practitioner; None without a record."""
    conn = sql.default()
    rows = await sql.fetch(
        _RECORD_FOR_OPENING, [ins, f"{activation.RECOVERY_ISSUER}%", clock.now(), practitioner_id], conn
    )
    if not rows:
        return None
    row = rows[0]
    return sql.model(Record, row, conn), bool(row["recovery_open"]), bool(row["is_blocked"])


async def _refuse(ctx: Context, record: Record, reason: str) -> None:
    """Count a refusal on an existing record with the caller's refused accesses to records
    (`records.count_refusal`: RATE_LIMITED past their bound, nothing noted), then note the
    denied attempt in its history."""
    await count_refusal(ctx)
    ctx.access_log.note(record.id, AccessAction.ACCESS_DENIED, reason=reason)


async def _refuse_existing(ctx: Context, record: Record) -> NoReturn:
    # The patient sees in their history that someone tried to open a record with their INS.
    await _refuse(ctx, record, reasons.EXISTING_RECORD)
    raise Conflict("A record already exists for this INS; the patient signs in to it")


async def create_record(
    ctx: Context, ins: str, activation_code: str, email: str, phone: str | None, password: str,
    code_channel: CodeChannel,
) -> RecordCreated:
    await limit_address(ctx.request, "create-record")
    ins = ins_argument(ins)
    try:
        check_strength(password)
    except WeakPassword as exc:
        raise BadUserInput.refused(exc) from None
    address = storable_email(email)
    if address is None:
        raise BadUserInput("Invalid e-mail address", Reason.INVALID_EMAIL)
    number = normalize_phone(phone) if phone else None
    if phone and number is None:
        raise BadUserInput("Invalid phone number", Reason.INVALID_PHONE)
    if code_channel == CodeChannel.SMS and number is None:
        raise BadUserInput("Codes by SMS need a phone number", Reason.SMS_NEEDS_PHONE)
    if code_channel == CodeChannel.SMS:
        texts_needed()
    # The code before argon2, so a wrong one costs no hash. An unknown INS, a wrong code and
    # an address in use take different statements to refuse: every answer waits until the
    # same time has passed since the check began.
    checked = time.perf_counter()
    try:
        record, row = await _activation_checked(ins, activation_code, address)
    finally:
        await answer_no_sooner(checked)
    password_hash = await hash_password(password)
    if record.owner_id is not None:  # type: ignore[attr-defined]
        return await _recover_contacts(ctx, record, row, address, number, password_hash, code_channel)
    now = clock.now()
    try:
        async with ctx.access_log.changing(record.id) as conn:
            used = await ActivationCode.filter(id=row.id, used_at=None).using_db(conn).update(used_at=now)
            if not used:
                raise BadUserInput(NOT_ACTIVATED, Reason.ACTIVATION_REFUSED)
            account = await Account.create(
                using_db=conn, id=uuid.uuid4(), role=Role.PATIENT, email=address, phone=number,
                password_hash=password_hash, first_name=record.first_name,
                last_name=record.last_name, code_channel=code_channel,
            )
            activated = await Record.filter(
                id=record.id, status=RecordStatus.PENDING, owner_id=None
            ).using_db(conn).update(
                owner_id=account.id, status=RecordStatus.ACTIVE, activated_at=now,
                pending_contact=None, pending_phone=None,  # the account's contacts from now on
            )
            if not activated:
                raise BadUserInput(NOT_ACTIVATED, Reason.ACTIVATION_REFUSED)
            # From here the request acts as the record's new owner.
            ctx.access_log.actor = Actor(account.id, account.display_name, None, Role.PATIENT.value)
            await ctx.access_log.record_change(
                record.id, AccessAction.RECORD_ACTIVATED, mode=AccessMode.OWNER
            )
    except IntegrityError:
        raise BadUserInput(NOT_ACTIVATED, Reason.ACTIVATION_REFUSED) from None
    attempt, token = await attempts.start(account, CodePurpose.VERIFY_CONTACT, live=True)
    sent_to = await send_code(
        account, CodePurpose.VERIFY_CONTACT, CodeChannel.EMAIL, address, attempt=attempt
    )
    return RecordCreated(token, sent_to)


async def _activation_checked(ins: str, activation_code: str, address: str) -> tuple[Record, ActivationCode]:
    """The record the code activates (a pending one, or an owned one whose contacts are being
    recovered) and the code's row, the try counted; the one refusal for anything else,
    including an address another account uses."""
    record = await Record.filter(ins=ins).first()
    owner_id: uuid.UUID | None = record.owner_id if record else None  # type: ignore[attr-defined]
    if owner_id is not None:
        recoverable = record is not None and record.status in (RecordStatus.ACTIVE, RecordStatus.CLOSED)
        record = record if recoverable else None
    elif record is not None and record.status != RecordStatus.PENDING:
        record = None
    row = await activation.check(record, activation_code)
    if record is None or row is None:
        raise BadUserInput(NOT_ACTIVATED, Reason.ACTIVATION_REFUSED)
    users = Account.filter(email=address)
    if await (users.exclude(id=owner_id) if owner_id is not None else users).exists():
        raise BadUserInput(NOT_ACTIVATED, Reason.ACTIVATION_REFUSED)
    return record, row


async def _recover_contacts(
    ctx: Context, record: Record, row: ActivationCode, address: str, number: str | None,
    password_hash: str, code_channel: CodeChannel,
) -> RecordCreated:
    """A patient who lost every contact, after support opened a recovery and a practitioner
    checked their identity and handed over a new code: new contacts and password."""
    owner_id: uuid.UUID = record.owner_id  # type: ignore[attr-defined]
    now = clock.now()
    owner = await Account.get(id=owner_id)
    try:
        async with ctx.access_log.changing(record.id) as conn:
            used = await ActivationCode.filter(id=row.id, used_at=None).using_db(conn).update(used_at=now)
            if not used:
                raise BadUserInput(NOT_ACTIVATED, Reason.ACTIVATION_REFUSED)
            # An address another account took since it was checked: the unique index refuses it.
            await Account.filter(id=owner_id).using_db(conn).update(
                email=address, email_verified=False, phone=number, phone_verified=False,
                password_hash=password_hash, code_channel=code_channel, locked_at=None,
                lock_reason=None, failure_count=0, pending_email=None, pending_phone=None,
            )
            await revoke_all(owner_id, using_db=conn)
            # A login or a reset begun before, its code sent to the lost address, ends too.
            await attempts.end_password_steps(owner_id)
            # The passkeys too: a patient who still had one would sign in with it rather than
            # go through a recovery; a passkey left on the lost device (a stolen phone) would
            # sign in after it and, as a fresh second factor, undo it. The identity checked in
            # person is the stronger proof; the patient adds a passkey again afterwards.
            await PasskeyChallenge.filter(account_id=owner_id).using_db(conn).delete()
            await PasskeyCredential.filter(account_id=owner_id).using_db(conn).delete()
            await Record.filter(id=record.id).using_db(conn).update(pending_contact=None, pending_phone=None)
            ctx.access_log.actor = Actor(owner.id, owner.display_name, None, Role.PATIENT.value)
            await ctx.access_log.record_change(
                record.id, AccessAction.SECURITY_CHANGED, mode=AccessMode.OWNER,
                reason=reasons.CONTACTS_RENEWED,
            )
    except IntegrityError:
        raise BadUserInput(NOT_ACTIVATED, Reason.ACTIVATION_REFUSED) from None
    account = await Account.get(id=owner_id)
    attempt, token = await attempts.start(account, CodePurpose.VERIFY_CONTACT, live=True)
    sent_to = await send_code(
        account, CodePurpose.VERIFY_CONTACT, CodeChannel.EMAIL, address, attempt=attempt
    )
    return RecordCreated(token, sent_to)


async def verify_contact(ctx: Context, attempt_token: str, code: str) -> SignedIn:
    account_id = await redeem_code(attempt_token, CodePurpose.VERIFY_CONTACT, code)
    await Account.filter(id=account_id).update(email_verified=True)
    return await signed_in(ctx, await Account.get(id=account_id))
