"""A mail server that is down, or takes the connection and never answers, fails the first
message of a pass; the pass leaves the channel's other messages for the next one, untried,
and goes on with the other channel. Each used to take its turn to fail the same way: with a
silent server, SEND_TIMEOUT (30 s) each, 100 minutes for a `dmp deliver-outbox` of 200."""

from __future__ import annotations

import dataclasses
import socket
from collections.abc import Iterator
from datetime import timedelta

import httpx
import pytest

from backend import clock, config
from backend.models import OutboxMessage
from backend.notify import delivery, senders
from backend.notify.delivery import deliver_due
from backend.notify.outbox import enqueue_email, enqueue_sms
from tests import sms_plugins

SEND_TIMEOUT = 0.3


@pytest.fixture
def silent_port() -> Iterator[int]:
    """A port whose connections the system takes (the listen backlog) and nobody answers."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(16)
        yield int(listener.getsockname()[1])


@pytest.fixture(autouse=True)
def _quick(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(senders, "SEND_TIMEOUT", SEND_TIMEOUT)
    monkeypatch.setattr(delivery, "CLAIM", timedelta(seconds=4 * SEND_TIMEOUT))
    sms_plugins.SENT.clear()


async def test_a_silent_mail_server_fails_one_message_a_pass_and_the_texts_go(
    client: httpx.AsyncClient, silent_port: int
) -> None:
    cfg = dataclasses.replace(config.settings(), smtp_host="127.0.0.1", smtp_port=silent_port,
                              sms_backend="tests.sms_plugins:Recorder")
    mails = [await enqueue_email(f"wait{i}@test.dmp", "DMP : test", "Bonjour") for i in range(5)]
    await enqueue_sms("06 12 34 56 78", "DMP : votre code est 112358")
    assert await deliver_due(cfg) == (1, 1)
    assert sms_plugins.SENT == [("+33612345678", "DMP : votre code est 112358")]
    rows = {row.id: row for row in await OutboxMessage.filter(channel="EMAIL")}
    first, *rest = (rows[m.id] for m in mails)
    assert (first.attempts, first.last_error) == (1, "TimeoutError")
    # The others untried, still due for the next pass.
    assert [(r.attempts, r.last_error, r.claimed_until) for r in rest] == [(0, None, None)] * 4
    assert all(r.next_attempt_at <= clock.now() for r in rest)
    assert await deliver_due(cfg) == (0, 1)
    assert sorted(r.attempts for r in await OutboxMessage.filter(channel="EMAIL")) == [0, 0, 0, 1, 1]


async def test_a_provider_that_answers_with_an_error_is_tried_for_each_text(
    client: httpx.AsyncClient,
) -> None:
    """Only a server or provider that cannot be reached (a connection error, a timeout) stops
    its channel for the pass: one that answers, even with an error, gets each text."""
    cfg = dataclasses.replace(config.settings(), sms_backend="tests.sms_plugins:AnswersAnError")
    for i in range(3):
        await enqueue_sms(f"06 00 00 00 0{i}", "DMP : votre code est 112358")
    assert await deliver_due(cfg) == (0, 3)
    rows = await OutboxMessage.all()
    assert [(r.attempts, r.last_error) for r in rows] == [(1, "RuntimeError")] * 3
