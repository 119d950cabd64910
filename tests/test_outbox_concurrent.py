"""Several deliverers at once (`dmp deliver-outbox` runs, `dmp serve` workers) try a failed
message once per due time, as one would: they gave it 2–5 attempts within 2 s, skipping the
back-off, and tried an undeliverable message again (docs/operations.md, "Outbox")."""

from __future__ import annotations

import asyncio
import logging
import threading
from collections import Counter
from collections.abc import Iterator
from datetime import timedelta

import pytest

from backend import clock
from backend.models import OutboxMessage
from backend.notify.delivery import NEVER, backoff, deliver_due
from backend.notify.outbox import enqueue_email
from tests.smtp import SmtpServer, _Collector, serving

DELIVERERS = 4


class _Refusing(_Collector):
    """Refuses every recipient, and counts how often each was tried: `never@` for good
    (550), the others for now (451)."""

    def __init__(self) -> None:
        super().__init__()
        self.tries: Counter[str] = Counter()
        self.tries_lock = threading.Lock()

    async def handle_RCPT(self, server: object, session: object, envelope: object,  # noqa: N802
                          address: str, rcpt_options: list[str]) -> str:
        with self.tries_lock:
            self.tries[address] += 1
        if address.startswith("never@"):
            return "550 5.1.1 mailbox unknown"
        return "451 4.3.0 try again later"


@pytest.fixture
def refusing() -> Iterator[tuple[SmtpServer, _Refusing]]:
    handler = _Refusing()
    with serving(handler) as server:
        yield server, handler


async def deliver_at_once(server: SmtpServer) -> tuple[int, int]:
    """DELIVERERS passes at the same time; their (sent, failed) summed."""
    results = await asyncio.gather(*(deliver_due(server.settings) for _ in range(DELIVERERS)))
    return sum(sent for sent, _ in results), sum(failed for _, failed in results)


async def test_deliverers_at_once_try_a_failing_message_once_per_due_time(
    refusing: tuple[SmtpServer, _Refusing], caplog: pytest.LogCaptureFixture,
) -> None:
    server, handler = refusing
    later = [f"later{i}@test.dmp" for i in range(6)]
    for address in later:
        await enqueue_email(address, "DMP : test", "Bonjour")
    never = await enqueue_email("never@test.dmp", "DMP : test", "Bonjour")

    with caplog.at_level(logging.INFO, logger="dmp.outbox"):
        assert await deliver_at_once(server) == (0, 7)
    # Each message tried once, whatever the number of deliverers, and backed off once.
    assert handler.tries == Counter({address: 1 for address in [*later, "never@test.dmp"]})
    rows = {row.recipient: row for row in await OutboxMessage.all()}
    assert {rows[a].attempts for a in later} == {1}
    assert all(rows[a].next_attempt_at >= clock.now() + backoff(1) - timedelta(seconds=5)
               for a in later)
    assert (rows["never@test.dmp"].attempts, rows["never@test.dmp"].next_attempt_at) == (1, NEVER)
    undeliverable = [r for r in caplog.records if r.name == "dmp.outbox" and r.levelno == logging.ERROR]
    assert [r.message_id for r in undeliverable] == [str(never.id)]  # type: ignore[attr-defined]

    # Not due again yet: nobody tries.
    assert await deliver_at_once(server) == (0, 0)
    assert sum(handler.tries.values()) == 7

    # Due again: one more attempt each, never for the undeliverable one.
    clock.shift(backoff(1) + timedelta(seconds=1))
    assert await deliver_at_once(server) == (0, 6)
    assert handler.tries == Counter({**{address: 2 for address in later}, "never@test.dmp": 1})
    rows = {row.recipient: row for row in await OutboxMessage.all()}
    assert {rows[a].attempts for a in later} == {2}
    assert rows["never@test.dmp"].attempts == 1
    assert all(rows[a].next_attempt_at >= clock.now() + backoff(2) - timedelta(seconds=5)
               for a in later)
