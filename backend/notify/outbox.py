"""Queue messages in the outbox, in the caller's transaction when it has one."""

from __future__ import annotations

import uuid
from typing import Any

from backend import clock
from backend.domain.enums import OutboxChannel
from backend.models import OutboxMessage


async def enqueue(
    channel: OutboxChannel,
    recipient: str,
    subject: str,
    body: str,
    *,
    account_id: uuid.UUID | None = None,
    record_id: uuid.UUID | None = None,
    using_db: Any = None,
) -> OutboxMessage:
    return await OutboxMessage.create(
        using_db=using_db,
        channel=channel,
        recipient=recipient,
        subject=subject,
        body=body,
        account_id=account_id,
        record_id=record_id,
        next_attempt_at=clock.now(),
    )


async def enqueue_email(recipient: str, subject: str, body: str, **kw: Any) -> OutboxMessage:
    return await enqueue(OutboxChannel.EMAIL, recipient, subject, body, **kw)


async def enqueue_sms(recipient: str, body: str, **kw: Any) -> OutboxMessage:
    return await enqueue(OutboxChannel.SMS, recipient, "SMS", body, **kw)
