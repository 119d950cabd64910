"""DMP_SMTP_STARTTLS unset: a TLS that fails on its first exchange after the handshake falls
back to clear text as one that fails in the handshake does.

With TLS 1.3 the client's handshake is over before the server has checked it: a relay that
requires a client certificate (or any TLS the server then breaks off) answers the first
encrypted command, the EHLO that must follow STARTTLS, with an alert. No part of the message
has been sent then. Failed instead, the message was retried to fail the same way until its
code expired, where one whose handshake failed went at once."""

from __future__ import annotations

import ssl
from pathlib import Path

import httpx
import pytest
from aiosmtpd.controller import Controller

from backend.notify.delivery import deliver_due
from backend.notify.outbox import enqueue_email
from tests.smtp import free_port
from tests.test_outbox_smtp_opportunistic import _Seen, mail_to, sent_in_clear_at_once
from tests.test_outbox_smtp_tls import HOST, certificate, running, server_context  # noqa: F401


def client_certificate_required(certificate: tuple[Path, Path]) -> ssl.SSLContext:  # noqa: F811
    """TLS 1.3 requiring a client certificate, which the service has none of: the server
    breaks off the session once the client's side of the handshake is over."""
    context = server_context(certificate)
    context.minimum_version = ssl.TLSVersion.TLSv1_3
    context.verify_mode = ssl.CERT_REQUIRED
    context.load_verify_locations(certificate[0])
    return context


async def test_a_tls_broken_off_after_the_handshake_sends_the_message_in_clear_at_once(
    client: httpx.AsyncClient, caplog: pytest.LogCaptureFixture, certificate: tuple[Path, Path]  # noqa: F811
) -> None:
    seen, port = _Seen(), free_port()
    controller = running(Controller(seen, hostname=HOST, port=port,
                                    tls_context=client_certificate_required(certificate)))
    try:
        warnings = await sent_in_clear_at_once(seen, port, caplog, "after-handshake-q7@test.dmp", "654321")
        assert "654321" not in repr(warnings[0].__dict__)
    finally:
        controller.stop()


async def test_a_required_starttls_broken_off_after_the_handshake_still_fails_the_message(
    client: httpx.AsyncClient, certificate: tuple[Path, Path]  # noqa: F811
) -> None:
    """DMP_SMTP_STARTTLS=true: nothing goes in clear (the certificate is not trusted either)."""
    seen, port = _Seen(), free_port()
    controller = running(Controller(seen, hostname=HOST, port=port,
                                    tls_context=client_certificate_required(certificate)))
    try:
        await enqueue_email("after-handshake-q8@test.dmp", "DMP : test", "Bonjour")
        assert await deliver_due(mail_to(port, smtp_starttls=True)) == (0, 1)
        assert seen.messages == []
    finally:
        controller.stop()
