"""At least once, as documented (docs/operations.md, "Outbox"): a deliverer that dies after the
mail server took a message and before marking it sent leaves the message claimed; once the
claim lapses another deliverer sends it again — twice, never lost — and marks it once."""

from __future__ import annotations

import httpx
import pytest

from backend import clock
from backend.domain.enums import OutboxChannel
from backend.models import OutboxMessage
from backend.notify.delivery import CLAIM, deliver_due
from backend.notify.outbox import enqueue_email
from backend.notify.senders import Sender, SmtpSender
from tests.smtp import SmtpServer


class _DiesAfterSending:
    """Sends through the real SMTP sender, then the process dies (SystemExit, which the outbox
    does not catch, as it could not catch a kill)."""

    def __init__(self, sender: SmtpSender) -> None:
        self.sender = sender

    async def send(self, recipient: str, subject: str, body: str) -> None:
        await self.sender.send(recipient, subject, body)
        raise SystemExit(9)


async def test_a_crash_between_sending_and_marking_sends_again_once_the_claim_lapses(
    client: httpx.AsyncClient, smtp_server: SmtpServer
) -> None:
    row = await enqueue_email("twice-c3@test.dmp", "DMP : test", "Bonjour")
    dying: dict[OutboxChannel, Sender] = {
        OutboxChannel.EMAIL: _DiesAfterSending(SmtpSender(smtp_server.settings))}
    with pytest.raises(SystemExit):
        await deliver_due(smtp_server.settings, senders=dying)
    assert len(smtp_server.to("twice-c3@test.dmp")) == 1
    row = await OutboxMessage.get(id=row.id)
    assert row.sent_at is None and row.claimed_until is not None and row.attempts == 0
    # Still claimed: nobody sends it meanwhile.
    assert await deliver_due(smtp_server.settings) == (0, 0)
    clock.shift(CLAIM)
    assert await deliver_due(smtp_server.settings) == (1, 0)
    assert len(smtp_server.to("twice-c3@test.dmp")) == 2
    row = await OutboxMessage.get(id=row.id)
    assert row.sent_at is not None and row.attempts == 1 and row.claimed_until is None
    assert await deliver_due(smtp_server.settings) == (0, 0)
