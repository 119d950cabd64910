"""The mail server's credentials never cross a network in clear: aiosmtplib sends AUTH over
whatever connection it has, so a username without STARTTLS to a host off the machine is
refused at start (it was sent in clear, with every code after it)."""

from __future__ import annotations

import dataclasses

import httpx
import pytest

from backend import config
from backend.config import ConfigError
from backend.models import OutboxMessage
from backend.notify.delivery import deliver_due
from backend.notify.outbox import enqueue_email
from backend.notify.senders import check_senders
from tests.server import run_dmp
from tests.smtp import Authenticator, serving

PASSWORD = "smtp-pw-q9x"  # noqa: S105 — a test's


def with_mail(host: str, *, starttls: bool = False) -> config.Settings:
    return dataclasses.replace(config.settings(), smtp_host=host, smtp_port=587, smtp_username="dmp",
                               smtp_password=PASSWORD, smtp_starttls=starttls)


@pytest.mark.parametrize("host", ["smtp.example.org", "10.0.0.5", "2001:db8::25", "localhost.example.org"])
def test_credentials_in_clear_to_another_machine_stop_the_start(host: str) -> None:
    with pytest.raises(ConfigError) as refused:
        check_senders(with_mail(host))
    assert "DMP_SMTP_STARTTLS=true" in str(refused.value) and PASSWORD not in str(refused.value)


@pytest.mark.parametrize("host", ["localhost", "LOCALHOST.", "mail.localhost", "127.0.0.1", "127.0.0.2",
                                  "::1", "[::1]"])
def test_credentials_to_this_machine_or_over_starttls_are_taken(host: str) -> None:
    check_senders(with_mail(host))
    check_senders(with_mail("smtp.example.org", starttls=True))
    check_senders(dataclasses.replace(with_mail("smtp.example.org"), smtp_port=465))


async def test_the_command_says_so_in_one_line_and_sends_nothing(client: httpx.AsyncClient) -> None:
    row = await enqueue_email("cred-q9@test.dmp", "DMP : test", "Bonjour")
    done = run_dmp("deliver-outbox", DMP_SMTP_HOST="smtp.example.invalid", DMP_SMTP_USERNAME="dmp",
                   DMP_SMTP_PASSWORD=PASSWORD, DMP_MAIL_FROM="dmp@test.dmp")
    assert done.returncode == 1
    assert done.stderr.strip().splitlines() == [
        "dmp: DMP_SMTP_USERNAME and DMP_SMTP_PASSWORD are sent to DMP_SMTP_HOST only over an "
        "encrypted connection: set DMP_SMTP_STARTTLS=true, or DMP_SMTP_PORT=465 (TLS from the "
        "start), or relay through localhost"]
    assert PASSWORD not in done.stdout + done.stderr
    row = await OutboxMessage.get(id=row.id)
    assert (row.attempts, row.sent_at, row.last_error) == (0, None, None)


async def test_a_relay_on_this_machine_gets_the_credentials(client: httpx.AsyncClient) -> None:
    authenticator = Authenticator()
    with serving(authenticator=authenticator, auth_require_tls=False) as server:
        cfg = dataclasses.replace(with_mail("127.0.0.1"), smtp_port=server.port)
        await enqueue_email("relay-q9@test.dmp", "DMP : test", "Bonjour")
        assert await deliver_due(cfg) == (1, 0)
        assert [m.recipients for m in server.messages] == [["relay-q9@test.dmp"]]
    assert authenticator.seen == [(b"dmp", PASSWORD.encode())]
