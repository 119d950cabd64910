"""What the mail server is told: the stored address alone, or nothing. An address that the
SMTP client reads otherwise (`a,b@x.fr` went to `a`, a mailbox of the relay itself, and to
`b@x.fr`; `a>b@x.fr` to `a`), a control character, a line break in a header: undeliverable,
marked once and never retried (a control character was retried for ever), never sent
elsewhere (docs/operations.md, "Outbox")."""

from __future__ import annotations

import logging
from datetime import timedelta

import httpx
import pytest

from backend import clock
from backend.logs import JsonFormatter
from backend.models import OutboxMessage
from backend.notify.delivery import NEVER, deliver_due
from backend.notify.outbox import enqueue_email
from tests.smtp import SmtpServer

MISREAD = ["local,other-r5@test.dmp", "relay>r5@test.dmp", "postmaster@test.dmp (r5), r5@test.dmp",
           "list;r5@test.dmp"]


async def test_an_address_the_client_would_read_otherwise_is_sent_nowhere(
    client: httpx.AsyncClient, smtp_server: SmtpServer, caplog: pytest.LogCaptureFixture
) -> None:
    for address in MISREAD:
        await enqueue_email(address, "DMP : test", "Bonjour")
    await enqueue_email("fine-r5@test.dmp", "DMP : test", "Bonjour")
    with caplog.at_level(logging.INFO, logger="dmp.outbox"):
        assert await deliver_due(smtp_server.settings) == (1, len(MISREAD))
    assert [m.recipients for m in smtp_server.messages] == [["fine-r5@test.dmp"]]
    for address in MISREAD:
        row = await OutboxMessage.get(recipient=address)
        assert (row.sent_at, row.attempts, row.next_attempt_at) == (None, 1, NEVER)
        assert row.last_error == "undeliverable: the address is not one mail can go to as written"
    lines = [JsonFormatter().format(r) for r in caplog.records if r.name == "dmp.outbox"]
    assert len(lines) == len(MISREAD)
    assert not any("r5" in line or "postmaster" in line for line in lines)
    clock.shift(timedelta(days=1))
    assert await deliver_due(smtp_server.settings) == (0, 0)


async def test_a_control_character_in_the_address_is_not_retried_for_ever(
    client: httpx.AsyncClient, smtp_server: SmtpServer
) -> None:
    row = await enqueue_email("esc\x1br5@test.dmp", "DMP : test", "Bonjour")
    assert await deliver_due(smtp_server.settings) == (0, 1)
    row = await OutboxMessage.get(id=row.id)
    assert (row.attempts, row.next_attempt_at, row.last_error) == (
        1, NEVER, "undeliverable: a control character in the address")
    clock.shift(timedelta(hours=2))
    assert await deliver_due(smtp_server.settings) == (0, 0)
    assert smtp_server.messages == []


async def test_a_line_break_in_a_subject_adds_no_header_and_is_not_retried(
    client: httpx.AsyncClient, smtp_server: SmtpServer
) -> None:
    row = await enqueue_email("subject-r5@test.dmp", "DMP\r\nBcc: spy-r5@test.dmp", "Bonjour")
    assert await deliver_due(smtp_server.settings) == (0, 1)
    assert smtp_server.messages == []
    row = await OutboxMessage.get(id=row.id)
    assert (row.attempts, row.next_attempt_at, row.last_error) == (
        1, NEVER, "undeliverable: a line break in the address or the subject")
