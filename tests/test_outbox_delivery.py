"""A down mail server delays notices, never loses them; once back, each arrives exactly once."""

from __future__ import annotations

import asyncio
import dataclasses
from collections import Counter
from datetime import timedelta

import httpx
import pytest
from aiosmtpd.controller import Controller

from backend import clock, config
from backend.config import Settings
from backend.models import OutboxMessage
from backend.notify.delivery import MAX_BACKOFF, deliver_due
from backend.notify.outbox import enqueue_email
from backend.notify.senders import Sender
from tests.history_helpers import READ, setup
from tests.smtp import SmtpServer, _Collector, free_port, smtp_server  # noqa: F401 — fixture


class RestartableSmtp:
    """A real aiosmtpd server on a fixed port that can be stopped and started again."""

    def __init__(self) -> None:
        self.port = free_port()
        self.collector = _Collector()
        self.controller: Controller | None = None

    def start(self) -> None:
        self.controller = Controller(self.collector, hostname="127.0.0.1", port=self.port)
        self.controller.start()

    def stop(self) -> None:
        if self.controller is not None:
            self.controller.stop()
            self.controller = None

    @property
    def settings(self) -> Settings:
        return dataclasses.replace(config.settings(), smtp_host="127.0.0.1", smtp_port=self.port)

    def per_recipient(self) -> Counter[str]:
        return Counter(r for m in self.collector.messages for r in m.recipients)


async def test_smtp_down_then_back_delivers_everything_exactly_once(client: httpx.AsyncClient) -> None:
    smtp = RestartableSmtp()  # not started: the mail server is down
    try:
        s = await setup(client)
        (await s["as_pro"].gql(READ, {"ins": s["record"].ins})).ok()  # first access: a notice
        recipients = [f"dest{i}@test.dmp" for i in range(5)]
        for address in recipients:
            await enqueue_email(address, "DMP : test", "Bonjour")
        patient_email = s["patient"].email
        total = await OutboxMessage.filter(sent_at=None).count()
        assert total == 6

        # Down: each pass tries the oldest message due, finds the server down, and leaves
        # the others for the next pass, untried.
        for _ in range(6):
            assert await deliver_due(smtp.settings) == (0, 1)
        rows = await OutboxMessage.all()
        assert all(r.attempts == 1 and r.sent_at is None and r.last_error for r in rows)
        assert all(r.next_attempt_at > clock.now() for r in rows)
        first_gap = max(r.next_attempt_at for r in rows) - clock.now()

        # Not yet due: nothing is tried again.
        assert await deliver_due(smtp.settings) == (0, 0)

        # Later, still down: a second attempt, pushed further back.
        clock.shift(timedelta(minutes=1))
        for _ in range(6):
            assert await deliver_due(smtp.settings) == (0, 1)
        rows = await OutboxMessage.all()
        assert all(r.attempts == 2 for r in rows)
        # Back-off grows with the attempts, and stays bounded.
        second_gap = min(r.next_attempt_at for r in rows) - clock.now()
        assert first_gap < second_gap <= MAX_BACKOFF

        # The server comes back; once due, everything is delivered, exactly once.
        smtp.start()
        clock.shift(timedelta(minutes=5))
        assert await deliver_due(smtp.settings) == (6, 0)
        assert await deliver_due(smtp.settings) == (0, 0)
        clock.shift(timedelta(hours=2))
        assert await deliver_due(smtp.settings) == (0, 0)
        counts = smtp.per_recipient()
        assert counts == Counter({**{a: 1 for a in recipients}, patient_email: 1})
        assert await OutboxMessage.filter(sent_at=None).count() == 0
        assert all(r.attempts == 3 for r in await OutboxMessage.all())
    finally:
        smtp.stop()


async def test_deliver_outbox_command_against_a_real_smtp_server(client: httpx.AsyncClient) -> None:
    from tests.server import run_dmp

    smtp = RestartableSmtp()
    smtp.start()
    try:
        for i in range(3):
            await enqueue_email(f"cmd{i}@test.dmp", "DMP : test", "Bonjour")
        done = run_dmp("deliver-outbox", DMP_SMTP_HOST="127.0.0.1", DMP_SMTP_PORT=str(smtp.port),
                       DMP_MAIL_FROM="dmp@test.dmp")
        assert done.returncode == 0, done.stderr
        assert "sent 3, failed 0" in done.stdout
        done = run_dmp("deliver-outbox", DMP_SMTP_HOST="127.0.0.1", DMP_SMTP_PORT=str(smtp.port),
                       DMP_MAIL_FROM="dmp@test.dmp")
        assert "sent 0, failed 0" in done.stdout
        assert smtp.per_recipient() == Counter({f"cmd{i}@test.dmp": 1 for i in range(3)})
    finally:
        smtp.stop()


async def test_dmp_serve_delivers_the_first_access_notice_in_the_background(
    client: httpx.AsyncClient, smtp_server: SmtpServer  # noqa: F811
) -> None:
    import time

    from tests.server import dmp_server

    s = await setup(client)
    with dmp_server(**smtp_server.env) as origin:
        cookie = {config.settings().session_cookie: s["as_pro"].session}
        async with httpx.AsyncClient(base_url=origin, cookies=cookie, timeout=30) as http:
            response = await http.post("/graphql", headers={"origin": origin},
                                       json={"query": READ, "variables": {"ins": s["record"].ins}})
            assert not response.json().get("errors")
        deadline = time.monotonic() + 30
        while not smtp_server.to(s["patient"].email) and time.monotonic() < deadline:
            await asyncio.sleep(0.1)
    (received,) = smtp_server.to(s["patient"].email)
    assert "/historique" in received.body and "Amoxicilline" not in received.body
    row = await OutboxMessage.get(record_id=s["record"].id)
    assert row.sent_at is not None and row.attempts == 1


async def test_an_sms_sender_that_cannot_be_made_fails_only_the_texts(
    smtp_server: SmtpServer, monkeypatch: pytest.MonkeyPatch  # noqa: F811 — the fixture
) -> None:
    """E-mail still goes out; each text is failed and kept for a later attempt."""
    from backend.notify import delivery
    from backend.notify.outbox import enqueue_sms

    def no_sms(_cfg: Settings) -> Sender:
        raise ValueError("no SMS sender")

    monkeypatch.setattr(delivery, "sms_sender", no_sms)
    await enqueue_sms("+33 6 00 00 00 01", "code 123456")
    await enqueue_email("mail@test.dmp", "DMP : test", "Bonjour")
    await enqueue_sms("+33 6 00 00 00 02", "code 654321")
    assert await deliver_due(smtp_server.settings) == (1, 2)
    assert [m.recipients for m in smtp_server.messages] == [["mail@test.dmp"]]
    texts = await OutboxMessage.filter(channel="SMS").order_by("recipient")
    assert [(t.sent_at, t.attempts, t.last_error) for t in texts] == [(None, 1, "ValueError")] * 2
    assert all(t.next_attempt_at > clock.now() for t in texts)
