"""Support staff fields: account metadata only, never medical content."""

from __future__ import annotations

import datetime as dt

import strawberry

from backend.resolvers import support
from backend.resolvers.context import Info
from backend.schema.types import CodeChannel, EmergencyKind, RecordStatus, ReviewState, Role


@strawberry.type
class SupportPendingMessage:
    subject: str
    created_at: dt.datetime
    attempts: int
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

    kind: EmergencyKind
    practitioner_name: str
    opened_at: dt.datetime
    review_state: ReviewState


@strawberry.type
class SupportAccount:
    account_id: strawberry.ID | None
    role: Role
    display_name: str
    account_status: str = strawberry.field(
        description="PENDING, ACTIVE, CLOSED, DELETION_REQUESTED (or UNKNOWN)"
    )
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
    pending_messages: list[SupportPendingMessage]
    emergency_reviews: list[SupportEmergencyReview]
    contact_recovery_open: bool


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
    @strawberry.field(description="Support staff: an account's status by e-mail, INS or RPPS.")
    async def support_account(self, info: Info, identifier: str) -> SupportAccount:
        return _to_type(await support.support_account(info.context, identifier))


@strawberry.type
class SupportMutation:
    @strawberry.mutation(
        description=(
            "Support staff: lift a code-login lock on a patient's or a practitioner's account "
            "(FORBIDDEN for any other: an operator lifts a support account's lock)."
        )
    )
    async def unlock_account(self, info: Info, identifier: str) -> SupportAccount:
        return _to_type(await support.unlock_account(info.context, identifier))

    @strawberry.mutation(
        description=(
            "Support staff: send a new activation code to the contacts already on file "
            "(the e-mail address, the phone number)."
        )
    )
    async def resend_activation(self, info: Info, identifier: str) -> bool:
        return await support.resend_activation(info.context, identifier)

    @strawberry.mutation(
        description="Support staff: open a contact recovery; a practitioner hands over the new code."
    )
    async def start_contact_recovery(self, info: Info, identifier: str) -> bool:
        return await support.start_contact_recovery(info.context, identifier)


QUERIES: tuple[type, ...] = (SupportQuery,)
MUTATIONS: tuple[type, ...] = (SupportMutation,)
