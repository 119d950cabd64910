"""A code queued while a pass is sending other messages goes out next, not after the rest of
the pass: a pass of 50 slow sends (each up to 30 s) made a sign-in code wait for all of them
(docs/operations.md, "Outbox", "Codes first")."""

from __future__ import annotations

import asyncio
import threading
from collections import Counter
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from backend.models import OutboxMessage
from backend.notify.delivery import deliver_due
from backend.notify.outbox import enqueue_email
from tests import factories
from tests.auth_flows import start
from tests.smtp import SIX_DIGITS, SmtpServer, _Collector, serving

BULK = 6
WAIT = 10  # seconds, at most, for either side of the hold


class _Holding(_Collector):
    """Takes every message, but answers the first only once released: the pass is still
    sending it while the test queues a code."""

    def __init__(self) -> None:
        super().__init__()
        self.arrived = threading.Event()
        self.release = threading.Event()

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        answer = await super().handle_DATA(server, session, envelope)
        if not self.arrived.is_set():
            self.arrived.set()
            await asyncio.to_thread(self.release.wait, WAIT)
        return answer


@pytest.fixture
def holding() -> Iterator[tuple[SmtpServer, _Holding]]:
    handler = _Holding()
    with serving(handler) as server:
        try:
            yield server, handler
        finally:
            handler.release.set()


async def queue_bulk() -> list[str]:
    addresses = [f"bulk{i}@test.dmp" for i in range(BULK)]
    for address in addresses:
        await enqueue_email(address, "Activez votre Dossier Médical Partagé",
                            "Votre code d'activation : ABCD-EFGH-JKLM")
    return addresses


async def test_a_code_queued_during_a_pass_goes_before_the_rest_of_it(
    client: httpx.AsyncClient, holding: tuple[SmtpServer, _Holding]
) -> None:
    server, handler = holding
    account, _ = await factories.patient()
    bulk = await queue_bulk()
    assert await OutboxMessage.all().count() == BULK

    # A pass with room for every notice; the code is asked for while it sends the first.
    delivering = asyncio.create_task(deliver_due(server.settings, limit=BULK))
    assert await asyncio.to_thread(handler.arrived.wait, WAIT)
    await start(client, account.email or "", factories.PASSWORD)
    handler.release.set()

    # The code next; the pass stays BULK sends long, so the last notice waits for the next.
    assert await delivering == (BULK, 0)
    received = server.messages
    assert [m.recipients for m in received] == [[bulk[0]], [account.email], *[[a] for a in bulk[1:-1]]]
    assert SIX_DIGITS.search(received[1].body)
    assert await deliver_due(server.settings) == (1, 0)
    assert [m.recipients for m in server.messages[BULK:]] == [[bulk[-1]]]
    assert {row.attempts for row in await OutboxMessage.all()} == {1}


async def test_deliverers_at_once_send_a_code_queued_meanwhile_once(
    client: httpx.AsyncClient, holding: tuple[SmtpServer, _Holding]
) -> None:
    """Each deliverer looks for codes before each notice; the claim still lets one send it."""
    server, handler = holding
    account, _ = await factories.patient()
    bulk = await queue_bulk()

    delivering = asyncio.gather(*(deliver_due(server.settings) for _ in range(3)))
    assert await asyncio.to_thread(handler.arrived.wait, WAIT)
    await start(client, account.email or "", factories.PASSWORD)
    handler.release.set()

    results = await delivering
    assert (sum(s for s, _ in results), sum(f for _, f in results)) == (BULK + 1, 0)
    assert Counter(r for m in server.messages for r in m.recipients) == Counter(
        [*bulk, account.email])
    assert {row.attempts for row in await OutboxMessage.all()} == {1}
