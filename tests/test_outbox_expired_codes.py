"""A one-time code the outbox could not send within its lifetime (the mail server was down)
is never sent: it could only be refused, and its reader would take it for the code just asked
for. It was retried, then sent, hours later (docs/operations.md, "Outbox")."""

from __future__ import annotations

import logging
from datetime import timedelta

import httpx
import pytest

from backend import clock, config
from backend.auth import codes
from backend.domain.enums import CodeChannel, CodePurpose, OutboxChannel
from backend.logs import JsonFormatter
from backend.models import OutboxMessage
from backend.notify.delivery import CODE_LIFETIME, EXPIRED, NEVER, deliver_all, deliver_due
from backend.notify.outbox import enqueue_email
from tests import factories
from tests.smtp import serving


def test_the_outbox_knows_how_long_a_code_lives() -> None:
    assert CODE_LIFETIME == codes.VALIDITY


async def test_a_code_the_mail_server_was_down_for_is_not_sent_once_expired(
    client: httpx.AsyncClient, caplog: pytest.LogCaptureFixture
) -> None:
    account, _ = await factories.patient()
    await codes.send_code(account, CodePurpose.LOGIN, CodeChannel.EMAIL, "coded-q7@test.dmp")
    notice = await enqueue_email("notice-q7@test.dmp", "DMP : test", "Bonjour")
    with serving() as down:
        pass
    assert await deliver_due(down.settings) == (0, 1)  # stopped: the code, first, fails
    clock.shift(CODE_LIFETIME + timedelta(minutes=1))
    caplog.clear()
    with serving() as server, caplog.at_level(logging.INFO, logger="dmp.outbox"):
        done = await deliver_all(server.settings)
        # The notice goes, the code does not.
        assert [m.recipients for m in server.messages] == [["notice-q7@test.dmp"]]
    assert (done.sent, done.failed, done.expired, done.left_for_retry) == (1, 0, 1, 0)
    code = await OutboxMessage.get(recipient="coded-q7@test.dmp")
    assert (code.sent_at, code.attempts, code.next_attempt_at, code.last_error) == (
        None, 1, NEVER, EXPIRED)
    assert (await OutboxMessage.get(id=notice.id)).sent_at is not None
    # Never again, however late.
    clock.shift(timedelta(days=2))
    with serving() as server:
        assert await deliver_due(server.settings) == (0, 0)
        assert server.messages == []
    lines = [JsonFormatter().format(r) for r in caplog.records if r.name == "dmp.outbox"]
    assert len(lines) == 1 and '"count":1' in lines[0].replace(" ", "")
    assert "coded-q7" not in lines[0] and str(account.id) not in lines[0]


async def test_a_code_queued_just_now_is_sent(client: httpx.AsyncClient) -> None:
    account, _ = await factories.patient()
    await codes.send_code(account, CodePurpose.LOGIN, CodeChannel.EMAIL, "fresh-q7@test.dmp")
    clock.shift(CODE_LIFETIME - timedelta(seconds=5))
    with serving() as server:
        assert await deliver_due(server.settings) == (1, 0)
        assert [m.recipients for m in server.messages] == [["fresh-q7@test.dmp"]]


class _TakesTheCodesLifetime:
    """A send that takes a code's whole lifetime on the service's clock."""

    def __init__(self) -> None:
        self.sent: list[str] = []

    async def send(self, recipient: str, subject: str, body: str) -> None:
        self.sent.append(recipient)
        clock.shift(CODE_LIFETIME)


async def test_a_code_that_expires_while_the_pass_sends_others_is_not_sent(
    client: httpx.AsyncClient,
) -> None:
    """Found due at the pass's start, it had lived its time when its turn came."""
    first, _ = await factories.patient()
    second, _ = await factories.patient()
    await codes.send_code(first, CodePurpose.LOGIN, CodeChannel.EMAIL, "first-q7@test.dmp")
    await codes.send_code(second, CodePurpose.LOGIN, CodeChannel.EMAIL, "second-q7@test.dmp")
    slow = _TakesTheCodesLifetime()
    assert await deliver_due(config.settings(), senders={OutboxChannel.EMAIL: slow}) == (1, 0)
    assert slow.sent == ["first-q7@test.dmp"]
    late = await OutboxMessage.get(recipient="second-q7@test.dmp")
    assert (late.sent_at, late.attempts, late.next_attempt_at, late.claimed_until, late.last_error) == (
        None, 0, NEVER, None, EXPIRED)
