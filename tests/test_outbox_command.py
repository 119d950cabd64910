"""`dmp deliver-outbox` against a real SMTP server (aiosmtpd) that is down or refuses: the run
says what it sent, what failed and what is left, never an address, and exits 1 when a send
failed (it exited 0 with every send failed)."""

from __future__ import annotations

from typing import Any

import httpx

from backend.models import OutboxMessage
from backend.notify.outbox import enqueue_email
from tests.server import run_dmp
from tests.smtp import _Collector, free_port, serving

MAIL = {"DMP_MAIL_FROM": "dmp@test.dmp"}
NOTE = " (a failed message is retried later, except one marked undeliverable: see the log)"


def deliver(port: int) -> Any:
    return run_dmp("deliver-outbox", DMP_SMTP_HOST="127.0.0.1", DMP_SMTP_PORT=str(port), **MAIL)


def summary(done: Any) -> str:
    """The run's last line, without the note on undeliverable messages that ends it."""
    line: str = done.stdout.strip().splitlines()[-1]
    assert line.endswith(NOTE)
    return line.removesuffix(NOTE)


def no_address_in(text: str, addresses: list[str]) -> None:
    for address in addresses:
        assert address not in text and address.partition("@")[0] not in text


class RefusesSome(_Collector):
    """Answers « try later » (451) to the recipients whose address starts with `defer-`."""

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str,  # noqa: N802
                          options: list[str]) -> str:
        if address.startswith("defer-"):
            return "451 4.3.0 Try again later"
        envelope.rcpt_tos.append(address)
        return "250 OK"


async def test_a_mail_server_down_fails_the_run(client: httpx.AsyncClient) -> None:
    addresses = [f"down{i}@test.dmp" for i in range(3)]
    for address in addresses:
        await enqueue_email(address, "DMP : test", "Bonjour")
    with serving() as server:
        port = server.port
    # Stopped: the port refuses the connection. The first message finds it so; the others
    # wait for the next run, untried.
    done = deliver(port)
    assert done.returncode == 1
    assert summary(done) == "sent 0, failed 1, codes expired unsent 0, left for retry 3"
    errors = [line for line in done.stderr.splitlines() if line.startswith("dmp: ")]
    assert errors == ["dmp: 1 message(s) could not be sent (see the log)"]
    no_address_in(done.stdout + done.stderr, addresses)
    assert sorted(r.attempts for r in await OutboxMessage.all()) == [0, 0, 1]
    # Run again at once: the next one is tried, the first waits for its back-off.
    again = deliver(port)
    assert again.returncode == 1
    assert summary(again) == "sent 0, failed 1, codes expired unsent 0, left for retry 3"
    assert sorted(r.attempts for r in await OutboxMessage.all()) == [0, 1, 1]
    assert await OutboxMessage.filter(sent_at__not_isnull=True).count() == 0


async def test_a_port_nobody_listens_on_fails_the_run(client: httpx.AsyncClient) -> None:
    await enqueue_email("nobody@test.dmp", "DMP : test", "Bonjour")
    done = deliver(free_port())
    assert done.returncode == 1
    assert summary(done) == "sent 0, failed 1, codes expired unsent 0, left for retry 1"


async def test_a_server_refusing_some_recipients_for_now_fails_the_run(client: httpx.AsyncClient) -> None:
    addresses = ["accept-x1@test.dmp", "defer-x2@test.dmp"]
    for address in addresses:
        await enqueue_email(address, "DMP : test", "Bonjour")
    with serving(RefusesSome()) as server:
        done = deliver(server.port)
        assert [m.recipients for m in server.messages] == [["accept-x1@test.dmp"]]
    assert done.returncode == 1
    assert summary(done) == "sent 1, failed 1, codes expired unsent 0, left for retry 1"
    no_address_in(done.stdout + done.stderr, addresses)
    later = await OutboxMessage.get(recipient="defer-x2@test.dmp")
    assert (later.sent_at, later.attempts, later.last_error) == (None, 1, "SMTPRecipientsRefused")


async def test_every_message_sent_is_a_success(client: httpx.AsyncClient) -> None:
    for i in range(2):
        await enqueue_email(f"ok{i}@test.dmp", "DMP : test", "Bonjour")
    with serving() as server:
        done = deliver(server.port)
        assert len(server.messages) == 2
    assert done.returncode == 0, done.stderr
    assert summary(done) == "sent 2, failed 0, codes expired unsent 0, left for retry 0"
    assert await OutboxMessage.filter(sent_at=None).count() == 0
