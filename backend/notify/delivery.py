"""Deliver the outbox: claim due messages, send, mark sent; back off on failure.

A crash between sending and marking may send a message twice; it never loses one. A send is
cut off after senders.SEND_TIMEOUT, well within the message's claim, so no other process can
claim a message still being sent. A message that can never be sent as it stands
(senders.Undeliverable) is marked failed once, not retried.
Short-lived codes (`urgent`) go before the other messages due; one queued during a pass goes
before that pass's next other message. However many processes deliver at once, a message is
tried once per due time: only a message still due and unclaimed can be claimed, so one that
another process has just failed (and pushed back) is not tried again before its back-off.
A code not sent within its lifetime (CODE_LIFETIME: the mail server was down) is never sent:
it could only be refused, and a reader would take an old code for a new one. A server or
provider that cannot be reached fails one message of its channel a pass; the channel's
others wait, untried, for the next pass.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

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


# Every urgent message is a one-time code (backend/auth/codes.py, VALIDITY), dead this long
# after it was queued; tests/test_outbox_expired_codes.py checks that the two agree.
CODE_LIFETIME = timedelta(minutes=10)
EXPIRED = "expired: the code's lifetime was over before it could be sent"


def backoff(attempts: int) -> timedelta:
    return min(timedelta(seconds=5 * 2 ** min(attempts, 12)), MAX_BACKOFF)


@dataclass(frozen=True)
class Pass:
    sent: int
    failed: int
    expired: int  # codes whose lifetime was over, not sent


async def deliver_due(
    cfg: Settings, limit: int = 50, senders: dict[OutboxChannel, Sender] | None = None
) -> tuple[int, int]:
    """Send what is due, at most `limit` messages; returns (sent, failed). `senders` keeps the
    senders made, from one call to the next (the worker's: an SMS plug-in's client lives as
    long as the worker)."""
    done = await deliver_pass(cfg, limit, senders)
    return done.sent, done.failed


async def deliver_pass(
    cfg: Settings, limit: int = 50, senders: dict[OutboxChannel, Sender] | None = None
) -> Pass:
    """deliver_due, also counting the codes found expired."""
    now = clock.now()
    expired = await _expire_codes(now)
    # Short-lived codes first, then the rest, each oldest first: a code queued behind an
    # insurer's thousands of activation e-mails would expire before its turn.
    codes = deque(await _due(urgent=True, at=now, limit=limit))
    others = deque(await _due(urgent=False, at=now, limit=limit - len(codes)) if len(codes) < limit else ())
    senders = {} if senders is None else senders
    sent = failed = 0
    # Channels whose server or provider did not answer (down, or hanging until SEND_TIMEOUT):
    # their other messages wait for the next pass, untried, instead of each taking its turn
    # to fail the same way (a hanging server held `dmp deliver-outbox` 30 s per message).
    down: set[str] = set()
    for _ in range(len(codes) + len(others)):
        if codes:
            (message_id, channel), due_at = codes.popleft(), now
        else:
            # A code queued since the pass began goes before the next of the others (each up
            # to SEND_TIMEOUT): one indexed query, and the code takes the last one's turn.
            found_at = clock.now()
            fresh = await _due(urgent=True, at=found_at, limit=1, skip=down)
            (message_id, channel), due_at = (fresh[0], found_at) if fresh else (others.popleft(), now)
        if channel in down:
            continue
        outcome = await _deliver(cfg, message_id, due_at, senders)
        if outcome == "unreachable":
            down.add(channel)
        sent += outcome == "sent"
        failed += outcome in ("failed", "unreachable")
        expired += outcome == "expired"
    return Pass(sent, failed, expired)


async def _expire_codes(at: datetime) -> int:
    """Mark, in one statement, the unclaimed codes queued more than CODE_LIFETIME before `at`
    as never to be sent (as undeliverable ones: `dmp purge` removes them after a month)."""
    count = await OutboxMessage.filter(
        Q(sent_at=None), Q(urgent=True), Q(next_attempt_at__lt=NEVER),
        Q(created_at__lte=at - CODE_LIFETIME),
        Q(claimed_until=None) | Q(claimed_until__lt=at),
    ).update(next_attempt_at=NEVER, last_error=EXPIRED)
    if count:
        log.warning("outbox codes expired before they could be sent, not sent", extra={"count": count})
    return count


async def _due(
    *, urgent: bool, at: datetime, limit: int, skip: set[str] | None = None
) -> list[tuple[Any, str]]:
    """The ids and channels of the messages due and unclaimed at `at`, oldest first; a code
    only while it lives; none of the channels in `skip`."""
    alive = Q(created_at__gt=at - CODE_LIFETIME) if urgent else Q()
    reachable = ~Q(channel__in=sorted(skip)) if skip else Q()
    rows = await OutboxMessage.filter(
        Q(sent_at=None), Q(urgent=urgent), Q(next_attempt_at__lte=at), alive, reachable,
        Q(claimed_until=None) | Q(claimed_until__lt=at),
    ).order_by("created_at").limit(limit).values_list("id", "channel")
    return [(message_id, str(channel)) for message_id, channel in rows]


async def _deliver(
    cfg: Settings, message_id: Any, due_at: datetime, senders: dict[OutboxChannel, Sender]
) -> Literal["sent", "failed", "unreachable", "expired"] | None:
    """Claim and send one message found due at `due_at`; None when another process had it
    first. "unreachable": failed, its server or provider down or silent."""
    # Claim atomically, and only while still due: another process may have listed the same
    # id, tried this one and pushed it back (or marked it undeliverable) since. The claim runs
    # from now, not from when it was found due: the sends before took their time.
    claimed = await OutboxMessage.filter(
        Q(id=message_id), Q(sent_at=None), Q(next_attempt_at__lte=due_at),
        Q(claimed_until=None) | Q(claimed_until__lt=due_at),
    ).update(claimed_until=clock.now() + CLAIM)
    if not claimed:
        return None
    message = await OutboxMessage.get(id=message_id)
    if message.urgent and message.created_at <= clock.now() - CODE_LIFETIME:
        # Its lifetime ran out while the sends before it took theirs.
        await OutboxMessage.filter(id=message_id).update(
            next_attempt_at=NEVER, claimed_until=None, last_error=EXPIRED
        )
        log.warning("outbox codes expired before they could be sent, not sent", extra={"count": 1})
        return "expired"
    try:
        channel = OutboxChannel(message.channel)
        sender = senders.get(channel)
        # Made when a message of its channel is due: a sender that cannot be made fails its
        # own channel's messages (retried later), not the other channel's.
        if sender is None:
            maker = email_sender if channel is OutboxChannel.EMAIL else sms_sender
            sender = senders[channel] = maker(cfg)
        await sender.send(message.recipient, message.subject, message.body)
    except Undeliverable as exc:
        await OutboxMessage.filter(id=message_id).update(
            attempts=F("attempts") + 1, next_attempt_at=NEVER, claimed_until=None,
            last_error=f"undeliverable: {exc}"[:300],
        )
        log.error("outbox message undeliverable, not retried",
                  extra={"message_id": str(message_id), "error": str(exc)})
        return "failed"
    except Exception as exc:  # noqa: BLE001 — any other failure is retried later
        # Counted in SQL; the back-off reads the count as claimed, which only we change.
        await OutboxMessage.filter(id=message_id).update(
            attempts=F("attempts") + 1,
            next_attempt_at=clock.now() + backoff(message.attempts + 1),
            claimed_until=None,
            last_error=type(exc).__name__,
        )
        log.warning("outbox delivery failed", extra={"message_id": str(message_id),
                                                      "error": type(exc).__name__})
        # aiosmtplib's connection errors and timeouts are OSError and TimeoutError too.
        return "unreachable" if isinstance(exc, TimeoutError | OSError) else "failed"
    await OutboxMessage.filter(id=message_id).update(
        sent_at=clock.now(), attempts=F("attempts") + 1, claimed_until=None
    )
    return "sent"


@dataclass(frozen=True)
class Run:
    """What `deliver_all` did: messages sent, failed (retried later, or undeliverable), and
    those still waiting to be sent after it (failed now or before, or not yet due)."""

    sent: int
    failed: int
    expired: int
    left_for_retry: int

    def summary(self) -> str:
        """One line for the operator: counts only, never an address or a text."""
        return (f"sent {self.sent}, failed {self.failed}, codes expired unsent {self.expired}, "
                f"left for retry {self.left_for_retry} (a failed message is retried later, "
                "except one marked undeliverable: see the log)")


async def deliver_all(cfg: Settings, batch: int = 200) -> Run:
    """Send what is due until a pass sends nothing (`dmp deliver-outbox`): a message that
    fails waits for its back-off, so the run ends even with the mail server down."""
    senders: dict[OutboxChannel, Sender] = {}  # made once for the whole run
    sent = failed = expired = 0
    while True:
        done = await deliver_pass(cfg, limit=batch, senders=senders)
        sent, failed, expired = sent + done.sent, failed + done.failed, expired + done.expired
        if done.sent == 0:
            break
    waiting = await OutboxMessage.filter(sent_at=None, next_attempt_at__lt=NEVER).count()
    return Run(sent, failed, expired, waiting)


async def run_forever(cfg: Settings, interval: float = 1.0) -> None:
    senders: dict[OutboxChannel, Sender] = {}
    while True:
        try:
            await deliver_due(cfg, senders=senders)
        except Exception:  # noqa: BLE001 — the worker must outlive a database blip
            log.exception("outbox worker iteration failed")
        await asyncio.sleep(interval)
