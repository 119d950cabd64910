"""DMP_SMTP_STARTTLS unset: e-mail goes over STARTTLS wherever the mail server offers it, its
certificate not checked (a relay's self-signed one is taken), as mail servers do (Postfix's
`smtp_tls_security_level = may`); in clear to a server that does not offer it, or whose TLS
fails (the message is sent, not retried until its code expires). DMP_SMTP_STARTTLS=false
never asks for it. Real aiosmtpd servers tell whether each message came over TLS; before,
the codes went in clear even to a server offering STARTTLS."""

from __future__ import annotations

import dataclasses
import logging
import ssl
from pathlib import Path
from typing import Any

import httpx
import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP

from backend import config
from backend.models import OutboxMessage
from backend.notify.delivery import deliver_due
from backend.notify.outbox import enqueue_email
from tests.smtp import Authenticator, _Collector, free_port
from tests.test_outbox_smtp_tls import HOST, _quick, certificate, running, server_context  # noqa: F401


class _Seen(_Collector):
    """Keeps each message, and whether it came over TLS (aiosmtpd's session.ssl, set by STARTTLS)."""

    def __init__(self) -> None:
        super().__init__()
        self.over_tls: list[bool] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        with self.lock:
            self.over_tls.append(session.ssl is not None)
        return await super().handle_DATA(server, session, envelope)


class _Refusing(SMTP):
    """Offers STARTTLS, then refuses it (RFC 3207's "454 TLS not available")."""

    async def smtp_STARTTLS(self, arg: str) -> None:  # noqa: N802
        await self.push("454 4.7.0 TLS not available due to temporary reason")


class _RefusingController(Controller):
    def factory(self) -> SMTP:
        return _Refusing(self.handler, **self.SMTP_kwargs)


def mail_to(port: int, **starttls: bool) -> config.Settings:
    """Mail to the test's server, DMP_SMTP_STARTTLS as the tests' environment leaves it (unset)
    unless `smtp_starttls` is given."""
    return dataclasses.replace(config.settings(), smtp_host=HOST, smtp_port=port, **starttls)


def test_unset_is_told_from_false(tmp_path: Path) -> None:
    def read(**env: str) -> bool | None:
        return config.load({"DMP_DATA_DIR": str(tmp_path / "data"), **env}).smtp_starttls

    assert read() is None and read(DMP_SMTP_STARTTLS=" ") is None
    assert read(DMP_SMTP_STARTTLS="false") is False and read(DMP_SMTP_STARTTLS=" Off ") is False
    assert read(DMP_SMTP_STARTTLS="true") is True
    with pytest.raises(config.ConfigError) as refused:
        read(DMP_SMTP_STARTTLS="may")
    assert str(refused.value) == "DMP_SMTP_STARTTLS must be true or false, got 'may'"


async def test_unset_uses_the_starttls_offered_with_a_certificate_not_trusted(
    client: httpx.AsyncClient, certificate: tuple[Path, Path]  # noqa: F811
) -> None:
    """The system does not trust the server's self-signed certificate (no SSL_CERT_FILE):
    STARTTLS=true fails such a message (test_outbox_smtp_tls); unset, it goes, encrypted."""
    seen, port = _Seen(), free_port()
    controller = running(Controller(seen, hostname=HOST, port=port, tls_context=server_context(certificate)))
    try:
        row = await enqueue_email("opportunistic-q7@test.dmp", "DMP : test", "Bonjour")
        assert await deliver_due(mail_to(port)) == (1, 0)
        assert [m.recipients for m in seen.messages] == [["opportunistic-q7@test.dmp"]]
        assert seen.over_tls == [True]
        row = await OutboxMessage.get(id=row.id)
        assert (row.attempts, row.last_error) == (1, None) and row.sent_at is not None
    finally:
        controller.stop()


async def test_unset_sends_in_clear_to_a_server_without_starttls(client: httpx.AsyncClient) -> None:
    seen, port = _Seen(), free_port()
    controller = running(Controller(seen, hostname=HOST, port=port))
    try:
        await enqueue_email("clear-q7@test.dmp", "DMP : test", "Bonjour")
        assert await deliver_due(mail_to(port)) == (1, 0)
        assert [m.recipients for m in seen.messages] == [["clear-q7@test.dmp"]]
        assert seen.over_tls == [False]
    finally:
        controller.stop()


async def test_false_never_asks_for_starttls(
    client: httpx.AsyncClient, certificate: tuple[Path, Path]  # noqa: F811
) -> None:
    seen, port = _Seen(), free_port()
    controller = running(Controller(seen, hostname=HOST, port=port, tls_context=server_context(certificate)))
    try:
        await enqueue_email("never-q7@test.dmp", "DMP : test", "Bonjour")
        assert await deliver_due(mail_to(port, smtp_starttls=False)) == (1, 0)
        assert [m.recipients for m in seen.messages] == [["never-q7@test.dmp"]]
        assert seen.over_tls == [False]
    finally:
        controller.stop()


async def sent_in_clear_at_once(
    seen: _Seen, port: int, caplog: pytest.LogCaptureFixture, address: str, code: str
) -> list[logging.LogRecord]:
    """Queues a code for `address` and delivers it to the server on `port`, DMP_SMTP_STARTTLS
    unset: checks it went in clear in that one attempt, with the one warning; returns the
    service's log records."""
    row = await enqueue_email(address, "DMP : code", f"Votre code : {code}")
    with caplog.at_level(logging.WARNING, logger="dmp.outbox"):
        assert await deliver_due(mail_to(port)) == (1, 0)
    assert [m.recipients for m in seen.messages] == [[address]]
    assert seen.over_tls == [False]
    row = await OutboxMessage.get(id=row.id)
    assert (row.attempts, row.last_error) == (1, None) and row.sent_at is not None
    warnings = [r for r in caplog.records if r.name == "dmp.outbox"]
    assert [r.getMessage() for r in warnings] == [
        "opportunistic STARTTLS failed, the message is sent without TLS"]
    return warnings


def broken_tls() -> ssl.SSLContext:
    """A server's TLS with no certificate: every handshake fails (a misconfigured relay)."""
    return ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)


@pytest.mark.parametrize("failure", ["handshake", "refused"])
async def test_a_starttls_that_fails_sends_the_message_in_clear_at_once(
    client: httpx.AsyncClient, caplog: pytest.LogCaptureFixture, failure: str
) -> None:
    """Offered, then failed (the handshake, or a 454 answer): the message goes over a new
    connection in clear, as to a server that does not offer STARTTLS, in the same attempt;
    failed instead, it would be retried to fail the same way until its code expired. The
    log says so, with the error's type only."""
    seen, port = _Seen(), free_port()
    maker = Controller if failure == "handshake" else _RefusingController
    controller = running(maker(seen, hostname=HOST, port=port, tls_context=broken_tls()))
    try:
        warnings = await sent_in_clear_at_once(seen, port, caplog, "fallback-q7@test.dmp", "123456")
        assert warnings[0].error.isidentifier()  # the type only
        assert "fallback-q7" not in repr(warnings[0].__dict__) and "123456" not in repr(warnings[0].__dict__)
    finally:
        controller.stop()


async def test_a_required_starttls_that_fails_still_fails_the_message(client: httpx.AsyncClient) -> None:
    """DMP_SMTP_STARTTLS=true: no fallback, the message is retried later, nothing sent in clear."""
    seen, port = _Seen(), free_port()
    controller = running(Controller(seen, hostname=HOST, port=port, tls_context=broken_tls()))
    try:
        row = await enqueue_email("required-q7@test.dmp", "DMP : test", "Bonjour")
        assert await deliver_due(mail_to(port, smtp_starttls=True)) == (0, 1)
        assert seen.messages == []
        row = await OutboxMessage.get(id=row.id)
        assert (row.sent_at, row.attempts) == (None, 1)
    finally:
        controller.stop()


async def test_a_relay_on_this_machine_gets_the_credentials_after_starttls(
    client: httpx.AsyncClient, certificate: tuple[Path, Path]  # noqa: F811
) -> None:
    """A relay on this machine that takes AUTH only once encrypted (aiosmtpd's default, as
    Postfix's smtpd_tls_auth_only): the credentials follow the opportunistic STARTTLS."""
    seen, authenticator, port = _Seen(), Authenticator(), free_port()
    controller = running(Controller(seen, hostname=HOST, port=port, tls_context=server_context(certificate),
                                    authenticator=authenticator))
    try:
        cfg = dataclasses.replace(mail_to(port), smtp_username="dmp",
                                  smtp_password="relay-pw-q7")  # noqa: S106
        await enqueue_email("relay-q7@test.dmp", "DMP : test", "Bonjour")
        assert await deliver_due(cfg) == (1, 0)
        assert seen.over_tls == [True]
        assert authenticator.seen == [(b"dmp", b"relay-pw-q7")]
    finally:
        controller.stop()
