"""Deliver the outbox: claim due messages, send, mark sent; back off on failure.

A crash between sending and marking may send a message twice; it never loses one. A send is
cut off after senders.SEND_TIMEOUT, well within the message's claim, so no other process can
claim a message still being sent. A message that can never be sent as it stands
(senders.Undeliverable) is marked failed once, not retried.
Short-lived codes (`urgent`) go before the other messages due. However many processes
deliver at once, a message is tried once per due time: only a message still due and
unclaimed can be claimed, so one that another process has just failed (and pushed back) is
not tried again before its back-off.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime, timedelta
from typing import Any

from tortoise.expressions import F, Q

from backend import clock
from backend.config import Settings
from backend.domain.enums import OutboxChannel
from backend.models import OutboxMessage
from backend.notify.senders import SEND_TIMEOUT, Sender, Undeliverable, email_sender, sms_sender

log = logging.getLogger("dmp.outbox")
# A message is held by the process sending it for four times the longest a send may take
# (2 minutes): the send is over, sent or failed, with time to spare for reading and marking
# the message, before its claim lapses and another process could claim it and send it again.
CLAIM = timedelta(seconds=4 * SEND_TIMEOUT)
MAX_BACKOFF = timedelta(minutes=30)
# The next attempt of a message that cannot be delivered (senders.Undeliverable): none.
NEVER = datetime(9999, 1, 1, tzinfo=UTC)


def backoff(attempts: int) -> timedelta:
    return min(timedelta(seconds=5 * 2 ** min(attempts, 12)), MAX_BACKOFF)


async def deliver_due(
    cfg: Settings, limit: int = 50, senders: dict[OutboxChannel, Sender] | None = None
) -> tuple[int, int]:
    """Send what is due; returns (sent, failed). `senders` keeps the senders made, from one
    call to the next (the worker's: an SMS plug-in's client lives as long as the worker)."""
    now = clock.now()
    due: list[Any] = []  # ids (values_list(flat=True) is typed as tuples)
    # Short-lived codes first, then the rest, each oldest first: a code queued behind an
    # insurer's thousands of activation e-mails would expire before its turn.
    for urgent in (True, False):
        if len(due) < limit:
            due += await OutboxMessage.filter(
                Q(sent_at=None), Q(urgent=urgent), Q(next_attempt_at__lte=now),
                Q(claimed_until=None) | Q(claimed_until__lt=now),
            ).order_by("created_at").limit(limit - len(due)).values_list("id", flat=True)
    # Each channel's sender is made when a message of that channel is due: one that cannot
    # be made fails its own messages (retried later), not the other channel's.
    makers = {OutboxChannel.EMAIL: email_sender, OutboxChannel.SMS: sms_sender}
    senders = {} if senders is None else senders
    sent = failed = 0
    for message_id in due:
        # Claim atomically, and only while still due: another process may have listed the
        # same ids, tried this one and pushed it back (or marked it undeliverable) since. The
        # claim runs from now, not from the pass's start: the sends before took their time.
        claimed = await OutboxMessage.filter(
            Q(id=message_id), Q(sent_at=None), Q(next_attempt_at__lte=now),
            Q(claimed_until=None) | Q(claimed_until__lt=now),
        ).update(claimed_until=clock.now() + CLAIM)
        if not claimed:
            continue
        message = await OutboxMessage.get(id=message_id)
        try:
            channel = OutboxChannel(message.channel)
            sender = senders.get(channel)
            if sender is None:
                sender = senders[channel] = makers[channel](cfg)
            await sender.send(message.recipient, message.subject, message.body)
        except Undeliverable as exc:
            failed += 1
            await OutboxMessage.filter(id=message_id).update(
                attempts=F("attempts") + 1, next_attempt_at=NEVER, claimed_until=None,
                last_error=f"undeliverable: {exc}"[:300],
            )
            log.error("outbox message undeliverable, not retried",
                      extra={"message_id": str(message_id), "error": str(exc)})
            continue
        except Exception as exc:  # noqa: BLE001 — any other failure is retried later
            failed += 1
            # Counted in SQL; the back-off reads the count as claimed, which only we change.
            await OutboxMessage.filter(id=message_id).update(
                attempts=F("attempts") + 1,
                next_attempt_at=clock.now() + backoff(message.attempts + 1),
                claimed_until=None,
                last_error=type(exc).__name__,
            )
            log.warning("outbox delivery failed", extra={"message_id": str(message_id),
                                                          "error": type(exc).__name__})
            continue
        sent += 1
        await OutboxMessage.filter(id=message_id).update(
            sent_at=clock.now(), attempts=F("attempts") + 1, claimed_until=None
        )
    return sent, failed


async def run_forever(cfg: Settings, interval: float = 1.0) -> None:
    senders: dict[OutboxChannel, Sender] = {}
    while True:
        try:
            await deliver_due(cfg, senders=senders)
        except Exception:  # noqa: BLE001 — the worker must outlive a database blip
            log.exception("outbox worker iteration failed")
        await asyncio.sleep(interval)
