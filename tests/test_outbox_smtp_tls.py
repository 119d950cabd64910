"""E-mail over TLS to a real aiosmtpd server whose certificate the system trusts (SSL_CERT_FILE):
port 465 speaks TLS from the first byte (RFC 8314; spoken to in clear it timed out on every
message, for ever), STARTTLS carries the credentials once encrypted, and a certificate that
is not trusted fails the message instead of sending it."""

from __future__ import annotations

import dataclasses
import datetime as dt
import fcntl
import ipaddress
import ssl
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from backend import config
from backend.models import OutboxMessage
from backend.notify import delivery, senders
from backend.notify.delivery import deliver_due
from backend.notify.outbox import enqueue_email
from tests.smtp import _Collector, free_port

HOST = "127.0.0.1"


@contextmanager
def port_465() -> Iterator[None]:
    """The machine's one port 465, held by one test run at a time (bin/test runs SQLite's and
    PostgreSQL's side by side)."""
    with open(Path(tempfile.gettempdir()) / "dmp-test-port-465.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


@pytest.fixture
def certificate(tmp_path: Path) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1 and localhost, and its key."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "dmp test mail")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5)).not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName(
            [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address(HOST))]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = tmp_path / "cert.pem", tmp_path / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return cert_path, key_path


def server_context(certificate: tuple[Path, Path]) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(*certificate)
    return context


class _Authenticator:
    def __init__(self) -> None:
        self.seen: list[tuple[bytes, bytes]] = []

    def __call__(self, server: Any, session: Any, envelope: Any, mechanism: str, data: Any) -> AuthResult:
        self.seen.append((data.login, data.password))
        return AuthResult(success=True)


@pytest.fixture(autouse=True)
def _quick(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(senders, "SEND_TIMEOUT", 3.0)
    monkeypatch.setattr(delivery, "CLAIM", dt.timedelta(seconds=12))


@pytest.fixture
def trusted(certificate: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("SSL_CERT_FILE", str(certificate[0]))
    yield


def running(controller: Controller) -> Controller:
    controller.start()
    return controller


async def test_port_465_speaks_tls_from_the_first_byte(
    client: httpx.AsyncClient, certificate: tuple[Path, Path], trusted: None
) -> None:
    collector, authenticator = _Collector(), _Authenticator()
    with port_465():
        controller = running(Controller(
            collector, hostname=HOST, port=465, ssl_context=server_context(certificate),
            # aiosmtpd offers AUTH on a connection TLS from the start only so (its STARTTLS test).
            authenticator=authenticator, auth_require_tls=False))
        try:
            cfg = dataclasses.replace(config.settings(), smtp_host=HOST, smtp_port=465,
                                      smtp_username="dmp", smtp_password="tls-pw-q4")  # noqa: S106
            await enqueue_email("tls-q4@test.dmp", "DMP : test", "Bonjour")
            assert await deliver_due(cfg) == (1, 0)
            assert [m.recipients for m in collector.messages] == [["tls-q4@test.dmp"]]
            assert authenticator.seen == [(b"dmp", b"tls-pw-q4")]
        finally:
            controller.stop()


async def test_starttls_carries_the_credentials_encrypted(
    client: httpx.AsyncClient, certificate: tuple[Path, Path], trusted: None
) -> None:
    """The server takes AUTH only once encrypted (aiosmtpd's auth_require_tls)."""
    collector, authenticator = _Collector(), _Authenticator()
    port = free_port()
    controller = running(Controller(
        collector, hostname=HOST, port=port, tls_context=server_context(certificate),
        require_starttls=True, authenticator=authenticator))
    try:
        cfg = dataclasses.replace(config.settings(), smtp_host=HOST, smtp_port=port, smtp_starttls=True,
                                  smtp_username="dmp", smtp_password="tls-pw-q4")  # noqa: S106
        await enqueue_email("starttls-q4@test.dmp", "DMP : test", "Bonjour")
        assert await deliver_due(cfg) == (1, 0)
        assert [m.recipients for m in collector.messages] == [["starttls-q4@test.dmp"]]
        assert authenticator.seen == [(b"dmp", b"tls-pw-q4")]
    finally:
        controller.stop()


async def test_a_certificate_not_trusted_fails_the_message(
    client: httpx.AsyncClient, certificate: tuple[Path, Path]
) -> None:
    collector = _Collector()
    port = free_port()
    controller = running(Controller(
        collector, hostname=HOST, port=port, tls_context=server_context(certificate),
        require_starttls=True))
    try:
        cfg = dataclasses.replace(config.settings(), smtp_host=HOST, smtp_port=port, smtp_starttls=True)
        row = await enqueue_email("untrusted-q4@test.dmp", "DMP : test", "Bonjour")
        assert await deliver_due(cfg) == (0, 1)
        assert collector.messages == []
        row = await OutboxMessage.get(id=row.id)
        assert (row.sent_at, row.attempts) == (None, 1)
    finally:
        controller.stop()
