"""Support staff fields: account metadata only, never medical content."""

from __future__ import annotations

import datetime as dt
from typing import Any

import strawberry

from backend.resolvers import support
from backend.resolvers.context import Info
from backend.schema.types import CodeChannel, EmergencyKind, RecordStatus, ReviewState, Role


def _said(description: str) -> Any:
    return strawberry.field(description=description)


@strawberry.type
class SupportPendingMessage:
    subject: str = _said("The message's subject (« SMS » for a text), never its body, which may hold a code")
    created_at: dt.datetime = _said("When it was queued")
    attempts: int = _said("Tries to send it so far")
    will_be_sent: bool = strawberry.field(
        description="False for a message the outbox will not send: a one-time code that expired "
        "unsent, or a message marked undeliverable (docs/operations.md, Outbox)"
    )
    next_attempt_at: dt.datetime | None = strawberry.field(
        description="When it is next tried; null when it will not be sent"
    )


@strawberry.type
class SupportEmergencyReview:
    """Who opened an emergency access and when, and its review state — never the reason."""

    kind: EmergencyKind = _said("A break-glass access, or a SAMU regulator's")
    practitioner_name: str = _said("The practitioner who opened it")
    opened_at: dt.datetime = _said("When it was opened")
    review_state: ReviewState = _said("Where the patient's review of it stands")


@strawberry.type
class SupportAccount:
    account_id: strawberry.ID | None = _said(
        "The account's id, for the service's logs; null for a record waiting for activation, which has "
        "no account yet. Support looks accounts up by e-mail address, INS or RPPS number, not by this id"
    )
    role: Role = _said("The account's role; PATIENT for a record waiting for activation")
    display_name: str = _said("First and last name (the record's, for one waiting for activation)")
    account_status: str = strawberry.field(
        description="PENDING, ACTIVE, CLOSED, DELETION_REQUESTED, DISABLED (an account without a "
        "record an operator disabled with `dmp disable-account`: it signs in no way, password, code, "
        "reset or passkey, until an operator runs `dmp enable-account`; support cannot enable it, and "
        "unlockAccount lifts a code lock without enabling it) or UNKNOWN"
    )
    record_status: RecordStatus | None = _said(
        "The patient's record; null for an account without one (a practitioner's, support's)"
    )
    masked_email: str | None = _said(
        "The e-mail address on file, masked (for a record waiting for activation, the one it was opened with)"
    )
    masked_phone: str | None = _said(
        "The phone number on file, all but its last two digits masked (for a record waiting for "
        "activation, the one it was opened with)"
    )
    email_verified: bool = _said("The address was confirmed with a code sent to it")
    phone_verified: bool = _said("The number was confirmed with a code sent to it")
    locked: bool = _said(
        "Sign-in by code is locked (10 wrong codes in a day); unlockAccount lifts it, an operator a "
        "support account's. A passkey still signs in"
    )
    lock_reason: str | None = _said("Why sign-in by code is locked; null when it is not")
    locked_at: dt.datetime | None = _said("When sign-in by code was locked; null when it is not")
    last_login_at: dt.datetime | None = _said("The last completed sign-in")
    last_failed_login_at: dt.datetime | None = _said(
        "The last sign-in started with a wrong password; wrong codes are not counted here but "
        "toward the lock (locked, lockedAt)"
    )
    code_channel: CodeChannel | None = _said(
        "Where sign-in codes go: SMS only once the account chose it and its number was confirmed "
        "(a number given at activation or recovery and never confirmed gets none: EMAIL until then); "
        "null for a record waiting for activation"
    )
    passkey_count: int = _said("Passkeys registered; each signs in without a code, even while locked")
    pending_messages: list[SupportPendingMessage] = _said(
        "E-mails and texts to this account (for a record waiting for activation, to its contacts) "
        "not sent yet, oldest first"
    )
    emergency_reviews: list[SupportEmergencyReview] = _said(
        "Emergency accesses to the record, newest first: who and when, never the reason"
    )
    contact_recovery_open: bool = _said(
        "A contact recovery opened by support waits (7 days) for a practitioner to hand the patient a "
        "new activation code"
    )


def _to_type(view: support.SupportAccountView) -> SupportAccount:
    return SupportAccount(
        account_id=strawberry.ID(str(view.account_id)) if view.account_id else None,
        role=view.role,
        display_name=view.display_name,
        account_status=view.account_status,
        record_status=view.record_status,
        masked_email=view.masked_email,
        masked_phone=view.masked_phone,
        email_verified=view.email_verified,
        phone_verified=view.phone_verified,
        locked=view.locked,
        lock_reason=view.lock_reason,
        locked_at=view.locked_at,
        last_login_at=view.last_login_at,
        last_failed_login_at=view.last_failed_login_at,
        code_channel=view.code_channel,
        passkey_count=view.passkey_count,
        pending_messages=[
            SupportPendingMessage(
                subject=m.subject, created_at=m.created_at, attempts=m.attempts,
                will_be_sent=m.next_attempt_at is not None, next_attempt_at=m.next_attempt_at,
            )
            for m in view.pending_messages
        ],
        emergency_reviews=[
            SupportEmergencyReview(
                kind=r.kind, practitioner_name=r.practitioner_name, opened_at=r.opened_at,
                review_state=r.review_state,
            )
            for r in view.emergency_reviews
        ],
        contact_recovery_open=view.contact_recovery_open,
    )


@strawberry.type
class SupportQuery:
    @strawberry.field(
        description=(
            "Support staff: an account's status by e-mail address, INS or RPPS number (read as sign-in "
            "reads them); a record waiting for activation has no account yet and is found by its INS. "
            "Each look-up is written in the patient's access history (for an account without a record, in "
            f"the service's log). {support.LOOKUPS_PER_HOUR} calls an hour per support account, this "
            "one, unlockAccount, resendActivation and startContactRecovery together, whatever they "
            "answer: past it, RATE_LIMITED, nothing looked up or written."
        )
    )
    async def support_account(self, info: Info, identifier: str) -> SupportAccount:
        return _to_type(await support.support_account(info.context, identifier))


@strawberry.type
class SupportMutation:
    @strawberry.mutation(
        description=(
            "Support staff: lift a code-login lock on a patient's or a practitioner's account "
            "(FORBIDDEN for any other: an operator lifts a support account's lock). Answers the "
            "account's status as supportAccount does, which is written as a look-up too. A record "
            "waiting for activation has no account to unlock yet: its INS gets NOT_FOUND, as an unknown "
            "one does, and resendActivation sends its activation code again. Counts toward supportAccount's "
            f"{support.LOOKUPS_PER_HOUR} calls an hour."
        )
    )
    async def unlock_account(self, info: Info, identifier: str) -> SupportAccount:
        return _to_type(await support.unlock_account(info.context, identifier))

    @strawberry.mutation(
        description=(
            "Support staff: send a new activation code to the contacts already on file "
            "(the e-mail address, the phone number), for a record waiting for activation (PENDING), "
            "found by its INS; earlier codes stop working. 5 a day per record; counts toward "
            f"supportAccount's {support.LOOKUPS_PER_HOUR} calls an hour."
        )
    )
    async def resend_activation(self, info: Info, identifier: str) -> bool:
        return await support.resend_activation(info.context, identifier)

    @strawberry.mutation(
        description=(
            "Support staff: open a contact recovery for an ACTIVE or CLOSED record whose patient lost "
            "their contacts; no code is shown: a practitioner hands over a new one after checking the "
            "patient's identity. The patient is e-mailed. 3 a day per record. NOT_FOUND for any other "
            "record (waiting for activation, or its deletion requested), as for an unknown one. Counts "
            f"toward supportAccount's {support.LOOKUPS_PER_HOUR} calls an hour."
        )
    )
    async def start_contact_recovery(self, info: Info, identifier: str) -> bool:
        return await support.start_contact_recovery(info.context, identifier)


QUERIES: tuple[type, ...] = (SupportQuery,)
MUTATIONS: tuple[type, ...] = (SupportMutation,)
