"""The mail server down for a while, then back: every notification arrives exactly once.

Two `dmp serve` processes deliver the outbox in the background (DESIGN §4): while the SMTP
server is down they record the failure and back off; once it is back each message is sent
by one of them, once, and marked. Runs on SQLite and PostgreSQL.
"""

from __future__ import annotations

import asyncio
import socket
from collections import Counter
from collections.abc import Awaitable, Callable, Iterator

import pytest
from aiosmtpd.controller import Controller

from backend.models import OutboxMessage
from tests import factories
from tests.conftest import session_for
from tests.resilience import Gql, http_client, ok, ready, servers
from tests.server import run_dmp
from tests.smtp import SmtpServer, _Collector

BREAK_GLASS = """mutation($ins: String!, $r: String!) {
  openBreakGlass(ins: $ins, reason: $r) { mode } }"""
START = """mutation($i: String!, $p: String!) {
  startLogin(identifier: $i, password: $p) { attemptToken } }"""


async def _until(check: Callable[[], Awaitable[bool]], what: str, attempts: int = 400) -> None:
    for _ in range(attempts):
        if await check():
            return
        await asyncio.sleep(0.1)
    raise AssertionError(f"timed out waiting until {what}")


@pytest.fixture
def down() -> Iterator[socket.socket]:
    """A port bound but not listening: connections are refused (the mail server is down),
    and no other program on the machine can take the port meanwhile."""
    with socket.socket() as reserved:
        reserved.bind(("127.0.0.1", 0))
        yield reserved


async def test_mail_server_down_then_back_delivers_every_notification_exactly_once(
    down: socket.socket,
) -> None:
    smtp_port = int(down.getsockname()[1])
    patients = [await factories.patient() for _ in range(3)]
    doctor, _ = await factories.practitioner()
    doctor_session = await session_for(doctor)
    env = {"DMP_SMTP_HOST": "127.0.0.1", "DMP_SMTP_PORT": str(smtp_port)}
    with servers(2, **env) as (a, b):
        for server in (a, b):
            await ready(server)
        async with http_client() as client:
            doctor_api = Gql(client, session=doctor_session)
            # Three break-glass notices and three login codes, through both processes.
            for i, (account, record) in enumerate(patients):
                server = (a, b)[i % 2]
                opened = await doctor_api(server, BREAK_GLASS, ins=record.ins,
                                          r="Patient inconscient, traitement en cours à vérifier")
                assert ok(opened)["openBreakGlass"]["mode"] == "BREAK_GLASS"
                ok(await Gql(client)((b, a)[i % 2], START, i=account.email, p=factories.PASSWORD))
        expected = Counter(m.recipient for m in await OutboxMessage.all())
        assert sum(expected.values()) == 6 and all(n == 2 for n in expected.values())

        async def all_failed_once() -> bool:
            rows = await OutboxMessage.all()
            return all(m.attempts >= 1 and m.sent_at is None and m.last_error for m in rows)

        await _until(all_failed_once, "both processes tried and failed every message")

        collector = _Collector()
        controller = Controller(collector, hostname="127.0.0.1", port=smtp_port)
        down.close()
        controller.start()  # the mail server is back
        try:
            mailbox = SmtpServer(smtp_port, collector)

            async def all_sent() -> bool:
                return not await OutboxMessage.filter(sent_at=None).exists()

            await _until(all_sent, "every message was sent after the mail server came back")
            # One more delivery round through the command finds nothing left to send.
            again = run_dmp("deliver-outbox", **env)
            assert again.returncode == 0 and again.stdout.startswith("sent 0,"), again.stdout
            received = Counter(r for m in mailbox.messages for r in m.recipients)
        finally:
            controller.stop()
    assert received == expected
    subjects = Counter(m.subject for m in mailbox.messages)
    assert subjects["DMP : votre code de connexion"] == 3, subjects
