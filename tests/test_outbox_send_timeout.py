"""A send never outlasts its claim (docs/operations.md, "Outbox"): a mail server that hangs
is cut off after senders.SEND_TIMEOUT, well within the claim (delivery.CLAIM, derived from
it), and the message is retried with back-off; no other deliverer sends it meanwhile."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest

from backend import clock, config
from backend.domain.enums import OutboxChannel
from backend.models import OutboxMessage
from backend.notify import delivery, senders
from backend.notify.delivery import CLAIM, backoff, deliver_due
from backend.notify.outbox import enqueue_email
from tests.smtp import SmtpServer, _Collector, serving

# Under aiosmtplib's own timeout of each step (10 s): only a bound on the whole send cuts it.
HANG = 5.0
SEND_TIMEOUT = 0.5


class _Hanging(_Collector):
    """Takes the first message's data, then answers nothing for HANG seconds before accepting
    it, unless the client gives up first (aiosmtpd then cancels the handler); takes the next
    messages at once."""

    def __init__(self) -> None:
        super().__init__()
        self.data_commands = 0
        self.abandoned = threading.Event()

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        self.data_commands += 1
        if self.data_commands == 1:
            try:
                await asyncio.sleep(HANG)
            except asyncio.CancelledError:
                self.abandoned.set()
                raise
        return await super().handle_DATA(server, session, envelope)


@pytest.fixture
def hanging() -> Iterator[tuple[SmtpServer, _Hanging]]:
    handler = _Hanging()
    with serving(handler) as server:
        yield server, handler


async def test_a_mail_server_that_hangs_is_cut_off_within_the_claim_and_the_message_retried(
    hanging: tuple[SmtpServer, _Hanging], monkeypatch: pytest.MonkeyPatch,
) -> None:
    server, handler = hanging
    # Seconds instead of minutes, the claim derived from the timeout as in delivery.py.
    monkeypatch.setattr(senders, "SEND_TIMEOUT", SEND_TIMEOUT)
    monkeypatch.setattr(delivery, "CLAIM", timedelta(seconds=4 * SEND_TIMEOUT))
    message = await enqueue_email("slow@test.dmp", "DMP : test", "Bonjour")

    # One deliverer sends; once the server hangs, another keeps trying for as long as the
    # first one is at it.
    first = asyncio.create_task(deliver_due(server.settings))
    while handler.data_commands == 0 and not first.done():
        await asyncio.sleep(0.01)
    others = 0
    while not first.done():
        others += sum(await deliver_due(server.settings))
        await asyncio.sleep(0.1)
    assert await first == (0, 1)
    assert others == 0
    assert await asyncio.to_thread(handler.abandoned.wait, 5)  # the server saw it give up
    assert server.messages == []
    row = await OutboxMessage.get(id=message.id)
    assert (row.sent_at, row.attempts, row.last_error, row.claimed_until) == (None, 1, "TimeoutError", None)
    # Backed off as any failure is.
    assert row.next_attempt_at >= clock.now() + backoff(1) - timedelta(seconds=2)
    assert await deliver_due(server.settings) == (0, 0)

    clock.shift(backoff(1) + timedelta(seconds=1))
    assert await deliver_due(server.settings) == (1, 0)
    assert [m.recipients for m in server.messages] == [["slow@test.dmp"]]  # once
    row = await OutboxMessage.get(id=message.id)
    assert row.sent_at is not None and row.attempts == 2


class _SlowToQuit(_Collector):
    """Takes every message at once, then answers nothing to QUIT for HANG seconds."""

    async def handle_QUIT(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        await asyncio.sleep(HANG)
        return "221 Bye"


async def test_a_server_that_hangs_after_taking_the_message_does_not_make_it_fail(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The QUIT after the server took the message is not under the send's timeout: a hang
    there would count a delivered message as failed, to be sent again."""
    monkeypatch.setattr(senders, "SEND_TIMEOUT", SEND_TIMEOUT)
    monkeypatch.setattr(senders, "QUIT_TIMEOUT", 0.2)
    with serving(_SlowToQuit()) as server:
        message = await enqueue_email("quit@test.dmp", "DMP : test", "Bonjour")
        assert await deliver_due(server.settings) == (1, 0)
        assert [m.recipients for m in server.messages] == [["quit@test.dmp"]]
        row = await OutboxMessage.get(id=message.id)
        assert row.sent_at is not None and row.attempts == 1


class _Slow:
    """Each send takes SEND_TIMEOUT on the service's clock, the longest a send may take, and
    notes how long its message's claim still runs when the send begins."""

    def __init__(self) -> None:
        self.claim_left: list[timedelta] = []

    async def send(self, recipient: str, subject: str, body: str) -> None:
        row = await OutboxMessage.get(recipient=recipient)
        assert row.claimed_until is not None
        self.claim_left.append(row.claimed_until - clock.now())
        clock.shift(timedelta(seconds=senders.SEND_TIMEOUT))


async def test_each_message_of_a_pass_is_claimed_for_the_whole_claim_however_long_the_pass() -> None:
    """A pass of slow sends: the fifth starts 2 minutes after the pass did, yet its claim
    still outlasts it (claimed from the pass's start, it had run out)."""
    for n in range(6):
        await enqueue_email(f"dest{n}@test.dmp", "DMP : test", "Bonjour")
    slow = _Slow()
    assert await deliver_due(config.settings(), senders={OutboxChannel.EMAIL: slow}) == (6, 0)
    assert len(slow.claim_left) == 6
    assert min(slow.claim_left) >= CLAIM - timedelta(seconds=5)
    # The longest send, its QUIT included, fits in the claim twice over.
    assert CLAIM > 2 * timedelta(seconds=senders.SEND_TIMEOUT + senders.QUIT_TIMEOUT)
