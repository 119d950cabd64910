"""Support staff: account help without any medical content (DESIGN §1, §4, §6).

Every support action — looking an account up included — is an event in the record's
history, so the patient sees who helped and when. An account without a record (a
practitioner's, support's) has no history: the action is a line of the service's log
instead, with ids only. Reasons of emergency accesses are never shown here: they are often
medical.
"""

from __future__ import annotations

import datetime as dt
import logging
import uuid
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from typing import Any

from backend import accounts, clock
from backend.audit import reasons
from backend.auth import activation, limits
from backend.auth.contacts import destination, normalize_email, texts_are_sent
from backend.domain.enums import (
    AccessAction,
    AccessMode,
    CodeChannel,
    EmergencyKind,
    RecordStatus,
    ReviewState,
    Role,
)
from backend.domain.identifiers import (
    INS_LENGTH,
    RPPS_DIGITS,
    InvalidIdentifier,
    normalize_ins,
    normalize_rpps,
    without_separators,
)
from backend.domain.reasons import Reason
from backend.errors import BadUserInput, Conflict, Forbidden, NotFound, Unauthenticated
from backend.models import (
    Account,
    ActivationCode,
    EmergencySession,
    OutboxMessage,
    PasskeyCredential,
    Practitioner,
    Record,
)
from backend.notify.delivery import NEVER
from backend.notify.notices import notify_security
from backend.resolvers.context import Context

log = logging.getLogger("dmp.support")

RECOVERY_ISSUER = activation.RECOVERY_ISSUER
# Whose code-login lock support lifts. A support account's is lifted by an operator: an agent
# who could lift a colleague's, or their own, would make the lock on support accounts void.
UNLOCKED_BY_SUPPORT = frozenset({Role.PATIENT, Role.PRACTITIONER})
OPERATOR_UNLOCKS = "Support unlocks patients' and practitioners' accounts only; an operator unlocks this one"
# Activation codes support may resend for one record in a day, whichever agent asks: each voids
# the one before and sends a message (a text costs money).
RESENDS_PER_DAY = 5
# Contact recoveries support may open for one record in a day: each e-mails the patient.
RECOVERIES_PER_DAY = 3
# Calls that take an identifier (supportAccount, unlockAccount, resendActivation,
# startContactRecovery) per support account and hour, together: each is a look-up, if only
# through its refusals (NOT_FOUND or not), and a found patient's name, statuses and masked
# contacts are an answer worth sweeping a list of INS numbers for. An agent on the phone makes a
# few calls per caller and helps a few dozen callers an hour at most; a stolen session swept
# 150 INS numbers in under a second. Counted before the identifier is read, whatever the answer
# (an unknown identifier, a malformed one, a refusal), so the count and the answer past the
# bound (RATE_LIMITED, nothing looked up or written) are the same whatever it names.
LOOKUPS_PER_HOUR = 120
TOO_MANY_LOOKUPS = "Too many support look-ups this hour; try again later"
# The longest e-mail address (RFC 5321); an INS or RPPS number, separators and all, is shorter.
MAX_IDENTIFIER = 254
# What an agent is told when the number typed is neither an INS nor an RPPS number: often a
# phone number, the account id `supportAccount` shows, or an RPPS number a digit short.
NEITHER_NUMBER = (
    "Neither an INS (15 characters) nor an RPPS number (11 digits): look an account up by its "
    "e-mail address, INS or RPPS number (a phone number or an account id is not searched)"
)
NO_ACCOUNT = "No account matches this identifier"
# A record waiting for activation has no account yet: the address it was opened with is no
# account's, and an agent who typed it is told how to find the record.
NO_ACCOUNT_AT_ADDRESS = (
    "No account has this e-mail address (a record waiting for activation has no account yet: "
    "look it up by its INS)"
)
# A record waiting for activation has no account to unlock: its INS is told so as an unknown
# INS is, so that the refusal tells nothing of the record and is no read of it.
NO_ACCOUNT_TO_UNLOCK = (
    "No account with this INS to unlock: a record waiting for activation has none yet (supportAccount "
    "shows such a record; resendActivation sends its activation code again)"
)
NO_RECOVERABLE_RECORD = (
    "No active or closed patient record matches this identifier (a record waiting for "
    "activation gets its code again with resendActivation, by its INS; a record whose deletion "
    "was requested is not recovered)"
)


@dataclass
class PendingMessage:
    subject: str
    created_at: dt.datetime
    attempts: int
    # None when it will not be sent: a code expired unsent, or a message undeliverable.
    next_attempt_at: dt.datetime | None

    @classmethod
    def of(cls, row: OutboxMessage) -> PendingMessage:
        due = row.next_attempt_at if row.next_attempt_at < NEVER else None
        return cls(row.subject, row.created_at, row.attempts, due)


@dataclass
class EmergencyReviewSummary:
    kind: EmergencyKind
    practitioner_name: str
    opened_at: dt.datetime
    review_state: ReviewState


@dataclass
class SupportAccountView:
    account_id: uuid.UUID | None
    role: Role
    display_name: str
    account_status: str
    record_status: RecordStatus | None
    masked_email: str | None
    masked_phone: str | None
    email_verified: bool
    phone_verified: bool
    locked: bool
    lock_reason: str | None
    locked_at: dt.datetime | None
    last_login_at: dt.datetime | None
    last_failed_login_at: dt.datetime | None
    code_channel: CodeChannel | None
    passkey_count: int
    pending_messages: list[PendingMessage]
    emergency_reviews: list[EmergencyReviewSummary]
    contact_recovery_open: bool


def mask_email(email: str | None) -> str | None:
    if not email or "@" not in email:
        return None
    local, domain = email.split("@", 1)
    return f"{local[:1]}{'•' * max(len(local) - 1, 2)}@{domain}"


def mask_phone(phone: str | None) -> str | None:
    if not phone:
        return None
    digits = [c for c in phone if c.isdigit()]
    return "•" * max(len(digits) - 2, 4) + "".join(digits[-2:])


def _require_support(ctx: Context) -> None:
    if not ctx.viewer.authenticated:
        raise Unauthenticated()
    if ctx.viewer.role != Role.SUPPORT:
        raise Forbidden("Support staff only")


async def _support_call(ctx: Context) -> None:
    """A support caller's call that takes an identifier, counted this hour before anything is
    read; RATE_LIMITED past LOOKUPS_PER_HOUR."""
    _require_support(ctx)
    key = f"support-lookup:{ctx.viewer.account_id}"
    await limits.require(key, limits.utc_hour(), LOOKUPS_PER_HOUR, TOO_MANY_LOOKUPS, window=limits.HOUR)


async def _find(identifier: str) -> tuple[Account | None, Record | None]:
    """An account by e-mail, INS or RPPS; a PENDING record has a record and no account."""
    raw = identifier.strip()
    if len(raw) > MAX_IDENTIFIER:
        # Longer than any address (RFC 5321), let alone an INS or RPPS number: not looked up.
        raise BadUserInput.text(
            "The identifier is longer than any e-mail address, INS or RPPS number", raw, "identifier",
            MAX_IDENTIFIER,
        )
    if not raw or ("@" not in raw and not any(c.isdigit() for c in raw)):
        # Empty, or a word: none of the three (a number, even a wrong one, is told what is wrong).
        raise BadUserInput("Give an e-mail address, an INS or an RPPS number", Reason.SEARCH_TERM_NEEDED)
    if "@" in raw:
        # As sign-in reads an address (NFC, lower case); one without its shape is told so.
        email = normalize_email(raw)
        if email is None:
            raise BadUserInput("Invalid e-mail address", Reason.INVALID_EMAIL)
        account = await Account.filter(email=email).first()
        record = await Record.filter(owner_id=account.id).first() if account else None
        return account, record
    # As sign-in reads a number (backend/resolvers/login.py), separators apart; 11 characters
    # are an RPPS number, 15 an INS, and anything else neither (told so, under INVALID_INS).
    digits = without_separators(raw)
    if _neither_number(digits):
        raise BadUserInput(NEITHER_NUMBER, Reason.INVALID_INS)
    if len(digits) == RPPS_DIGITS:
        try:
            rpps = normalize_rpps(digits)
        except InvalidIdentifier as exc:
            raise BadUserInput.refused(exc) from None
        practitioner = await Practitioner.filter(rpps=rpps).select_related("account").first()
        return (practitioner.account if practitioner else None), None
    try:
        ins = normalize_ins(raw)
    except InvalidIdentifier as exc:
        raise BadUserInput.refused(exc) from None
    record = await Record.filter(ins=ins).select_related("owner").first()
    if record is None:
        return None, None
    return record.owner, record


def _neither_number(typed: str) -> bool:
    """Of neither number's length, or with letters where an INS has none (`RPPS 10000000017`
    pasted whole): only a Corsican INS has letters, 2A or 2B, its sixth and seventh characters."""
    if len(typed) == RPPS_DIGITS:
        return False
    if len(typed) != INS_LENGTH:
        return True
    return any(c.isalpha() for i, c in enumerate(typed) if i not in (5, 6))


def _no_account(identifier: str) -> NotFound:
    return NotFound(NO_ACCOUNT_AT_ADDRESS if "@" in identifier else NO_ACCOUNT)


def _an_ins(identifier: str) -> bool:
    """What `_find` read as an INS (it refused any other number that is not an RPPS number)."""
    return "@" not in identifier and len(without_separators(identifier.strip())) == INS_LENGTH


def _account_status(record: Record | None, account: Account | None) -> str:
    if record is None:
        if account is not None and account.disabled_at is not None:
            return "DISABLED"  # by an operator: `dmp disable-account` (never a patient's)
        return "ACTIVE" if account else "UNKNOWN"
    if record.status == RecordStatus.DELETED:
        return "DELETION_REQUESTED"
    return str(record.status)


def _note(ctx: Context, account: Account | None, record: Record | None, what: str) -> None:
    """Support read the account: written before the answer leaves, as every read; an account
    without a record has no history to write it in, and the read is a line of the log."""
    if record is not None:
        ctx.access_log.note(
            record.id, AccessAction.SUPPORT_ACTION, mode=AccessMode.SUPPORT, reason=what
        )
    elif account is not None:
        _trace(ctx, "read", account)


def _trace(ctx: Context, action: str, account: Account) -> None:
    """Support's action on an account without a record: who acted and on which account, by
    their ids and the account's role — never a name, an address, a number or a code."""
    log.info(
        "support %s: %s account %s, by support account %s", action, account.role, account.id,
        ctx.viewer.account_id,
        extra={"event": f"support_{action}", "account": str(account.id), "actor": str(ctx.viewer.account_id)},
    )


def _acting(ctx: Context, record: Record | None, what: str) -> AbstractAsyncContextManager[Any]:
    """The transaction of support's change; with a record, the change's event is written in it."""
    return ctx.access_log.change(
        record.id if record else None, AccessAction.SUPPORT_ACTION, mode=AccessMode.SUPPORT, reason=what
    )


async def support_account(ctx: Context, identifier: str) -> SupportAccountView:
    await _support_call(ctx)
    return await _status(ctx, identifier)


async def _status(ctx: Context, identifier: str) -> SupportAccountView:
    """The account's status as `supportAccount` answers it, written as support's read."""
    account, record = await _find(identifier)
    if account is None and record is None:
        raise _no_account(identifier)
    pending: list[PendingMessage] = []
    passkeys = 0
    if account is not None:
        rows = await OutboxMessage.filter(account_id=account.id, sent_at=None).order_by("created_at")
        pending = [PendingMessage.of(m) for m in rows]
        passkeys = await PasskeyCredential.filter(account_id=account.id).count()
    reviews: list[EmergencyReviewSummary] = []
    recovery_open = False
    if record is not None:
        if account is None:
            rows = await OutboxMessage.filter(record_id=record.id, sent_at=None).order_by("created_at")
            pending = [PendingMessage.of(m) for m in rows]
        sessions = await EmergencySession.filter(record_id=record.id).order_by("-opened_at").select_related(
            "practitioner__account"
        )
        reviews = [
            EmergencyReviewSummary(
                kind=EmergencyKind(s.kind),
                practitioner_name=s.practitioner.account.display_name,
                opened_at=s.opened_at,
                review_state=ReviewState(s.review_state),
            )
            for s in sessions
        ]
        recovery_open = await activation.recovery_open(record)
    _note(ctx, account, record, reasons.SUPPORT_READ)
    name = account.display_name if account else f"{record.first_name} {record.last_name}" if record else ""
    return SupportAccountView(
        account_id=account.id if account else None,
        role=Role(account.role) if account else Role.PATIENT,
        display_name=name,
        account_status=_account_status(record, account),
        record_status=RecordStatus(record.status) if record else None,
        masked_email=mask_email(account.email if account else record.pending_contact if record else None),
        masked_phone=mask_phone(account.phone if account else record.pending_phone if record else None),
        email_verified=bool(account and account.email_verified),
        phone_verified=bool(account and account.phone_verified),
        locked=bool(account and account.locked_at),
        lock_reason=account.lock_reason if account else None,
        locked_at=account.locked_at if account else None,
        last_login_at=account.last_login_at if account else None,
        last_failed_login_at=account.last_failed_login_at if account else None,
        code_channel=destination(account)[0] if account else None,  # where codes really go
        passkey_count=passkeys,
        pending_messages=pending,
        emergency_reviews=reviews,
        contact_recovery_open=recovery_open,
    )


async def unlock_account(ctx: Context, identifier: str) -> SupportAccountView:
    await _support_call(ctx)
    account, record = await _find(identifier)
    if account is None:
        raise NotFound(NO_ACCOUNT_TO_UNLOCK) if _an_ins(identifier) else _no_account(identifier)
    if account.role not in UNLOCKED_BY_SUPPORT:
        # Refused locked or not: the refusal tells nothing of the account's state.
        _trace(ctx, "unlock_refused", account)
        raise Forbidden(OPERATOR_UNLOCKS)
    if account.locked_at is None:
        _note(ctx, account, record, reasons.SUPPORT_READ)  # the refusal tells what supportAccount would
        raise BadUserInput("This account is not locked", Reason.ACCOUNT_NOT_LOCKED)
    async with _acting(ctx, record, reasons.SUPPORT_UNLOCKED) as conn:
        # Decided again in the change: an account another agent (or an operator) unlocked
        # meanwhile is not unlocked twice, and its event is not written.
        if not await accounts.unlock(account, by=accounts.BY_SUPPORT, using_db=conn):
            raise BadUserInput("This account is not locked", Reason.ACCOUNT_NOT_LOCKED)
    if record is None:
        _trace(ctx, "unlock", account)  # once committed: an unlock rolled back is not told
    return await _status(ctx, identifier)  # one call, counted once


async def resend_activation(ctx: Context, identifier: str) -> bool:
    """A new activation code for a PENDING record, sent only to the contact already on file."""
    await _support_call(ctx)
    account, record = await _find(identifier)
    if record is None:
        if account is None and "@" in identifier:
            raise _no_account(identifier)
        raise NotFound("No record matches this identifier")
    # A refusal tells the record's state, as supportAccount would: it is a read of it.
    if record.status != RecordStatus.PENDING:
        _note(ctx, account, record, reasons.SUPPORT_READ)
        raise BadUserInput("This record is already activated", Reason.ALREADY_ACTIVATED)
    try:
        _destinations(record.pending_contact, record.pending_phone)
    except BadUserInput:
        _note(ctx, account, record, reasons.SUPPORT_READ)
        raise
    await limits.require(
        f"support-resend:{record.id}", limits.utc_day(), RESENDS_PER_DAY,
        "Enough codes were resent for this record today; try again tomorrow", window=limits.DAY,
    )
    async with _acting(ctx, record, reasons.SUPPORT_RESENT) as conn:
        # The contacts on file as the change sees them: a practitioner who opened the record
        # again meanwhile, at the point of care, replaced them (the first may have been wrong).
        rows = await Record.filter(id=record.id).using_db(conn).values_list(
            "status", "owner_id", "pending_contact", "pending_phone"
        )
        if not rows or rows[0][0] != RecordStatus.PENDING or rows[0][1] is not None:
            raise Conflict(activation.NOT_ISSUABLE)  # activated, or removed, meanwhile
        email, phone = _destinations(rows[0][2], rows[0][3])
        await activation.issue(record, "support", send_to=email, text_to=phone, using_db=conn)
    return True


def _destinations(email: str | None, phone: str | None) -> tuple[str | None, str | None]:
    """Where a resent activation code goes: the e-mail address and the phone number on file
    (the number only where texts are sent); refused when that is nowhere."""
    if not (email or phone):
        raise BadUserInput(
            "No contact is on file: the patient must get a code from a practitioner after an identity check",
            Reason.NO_CONTACT_ON_FILE,
        )
    texted = phone if texts_are_sent() else None
    if not (email or texted):
        raise BadUserInput(
            "Only a phone number is on file, and this service sends no texts", Reason.SMS_UNAVAILABLE
        )
    return email, texted


async def start_contact_recovery(ctx: Context, identifier: str) -> bool:
    """For a patient who lost every contact: opens a recovery that only a practitioner can finish.

    No code is shown to support: at the point of care, after checking identity, a
    practitioner's `openRecordForPatient` hands the patient a fresh activation code, and
    `createRecord` with it sets the new contacts and password.
    """
    await _support_call(ctx)
    account, record = await _find(identifier)
    if record is None or account is None or record.status not in (RecordStatus.ACTIVE, RecordStatus.CLOSED):
        raise NotFound(NO_RECOVERABLE_RECORD)
    await limits.require(
        f"support-recovery:{record.id}", limits.utc_day(), RECOVERIES_PER_DAY,
        "Enough recoveries were opened for this record today; try again tomorrow", window=limits.DAY,
    )
    async with _acting(ctx, record, reasons.SUPPORT_RECOVERY) as conn:
        await ActivationCode.filter(record_id=record.id, used_at=None).using_db(conn).update(
            used_at=clock.now()
        )
        # A code nobody knows: the row only marks the recovery as open until it expires.
        code, row = await activation.issue(
            record, f"{RECOVERY_ISSUER}:{ctx.viewer.account_id}", using_db=conn
        )
        del code
        await ActivationCode.filter(id=row.id).using_db(conn).update(
            expires_at=clock.now() + dt.timedelta(days=7)
        )
        # Queued with the change: a recovery the holder is not told of is not opened.
        await notify_security(
            await accounts.as_now(account, conn), "ouverture d'une récupération de contacts par le support",
            using_db=conn,
        )
    return True
