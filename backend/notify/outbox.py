"""Queue messages in the outbox, in the caller's transaction when it has one."""

from __future__ import annotations

import uuid
from typing import Any

from backend import clock, sql
from backend.domain.enums import OutboxChannel
from backend.models import OutboxMessage

# Hand-written (backend/sql.py): every sign-in queues its code (docs/benchmarks.md, step 35).
_INSERT = (
    'INSERT INTO "outbox_message" ("id", "channel", "recipient", "subject", "body", "account_id",'
    ' "record_id", "created_at", "attempts", "next_attempt_at", "claimed_until", "sent_at",'
    ' "last_error", "urgent") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 0, $8, NULL, NULL, NULL, $9)'
    ' RETURNING *'
)


async def enqueue(
    channel: OutboxChannel,
    recipient: str,
    subject: str,
    body: str,
    *,
    account_id: uuid.UUID | None = None,
    record_id: uuid.UUID | None = None,
    urgent: bool = False,
    using_db: Any = None,
) -> OutboxMessage:
    """`urgent`: a short-lived code, delivered before the other messages due (delivery.py)."""
    return await sql.inserted(OutboxMessage, _INSERT, [
        uuid.uuid4(), channel.value, recipient, subject, body, account_id, record_id, clock.now(),
        urgent,
    ], using_db)


async def enqueue_email(recipient: str, subject: str, body: str, **kw: Any) -> OutboxMessage:
    return await enqueue(OutboxChannel.EMAIL, recipient, subject, body, **kw)


async def enqueue_sms(recipient: str, body: str, **kw: Any) -> OutboxMessage:
    return await enqueue(OutboxChannel.SMS, recipient, "SMS", body, **kw)
