"""A real SMTP server (aiosmtpd) for tests: the outbox delivers to it, tests read the codes.

Use the `smtp_server` fixture; `await smtp_server.deliver()` sends what the outbox holds,
`await smtp_server.code_for(address)` delivers and returns the latest code sent there.
"""

from __future__ import annotations

import dataclasses
import email
import json
import re
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from email.message import EmailMessage
from email.policy import default as default_policy
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from backend import config
from backend.config import Settings

SIX_DIGITS = re.compile(r"(?<!\d)(\d{6})(?!\d)")
ACTIVATION = re.compile(r"\b([A-Z2-9]{4}-[A-Z2-9]{4}-[A-Z2-9]{4})\b")


@dataclass
class Received:
    sender: str
    recipients: list[str]
    subject: str
    body: str


class _Collector:
    def __init__(self) -> None:
        self.messages: list[Received] = []
        self.lock = threading.Lock()

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        raw = envelope.content if isinstance(envelope.content, bytes) else envelope.content.encode()
        parsed = email.message_from_bytes(raw, policy=default_policy)
        assert isinstance(parsed, EmailMessage)
        part = parsed.get_body(("plain",))
        body = part.get_content() if part is not None else ""
        with self.lock:
            self.messages.append(Received(envelope.mail_from, list(envelope.rcpt_tos),
                                          str(parsed["Subject"] or ""), body))
        return "250 Message accepted for delivery"


class Authenticator:
    """Takes any login and password (aiosmtpd's `authenticator`), keeping each one seen."""

    def __init__(self) -> None:
        self.seen: list[tuple[bytes, bytes]] = []

    def __call__(self, server: Any, session: Any, envelope: Any, mechanism: str, data: Any) -> AuthResult:
        assert isinstance(data, LoginPassword)
        self.seen.append((data.login, data.password))
        return AuthResult(success=True)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class SmtpServer:
    def __init__(self, port: int, collector: _Collector) -> None:
        self.host = "127.0.0.1"
        self.port = port
        self._collector = collector

    @property
    def settings(self) -> Settings:
        """The current settings, with mail going to this server."""
        return dataclasses.replace(config.settings(), smtp_host=self.host, smtp_port=self.port)

    @property
    def env(self) -> dict[str, str]:
        """Environment for a `dmp` subprocess that should mail this server."""
        return {"DMP_SMTP_HOST": self.host, "DMP_SMTP_PORT": str(self.port)}

    @property
    def messages(self) -> list[Received]:
        with self._collector.lock:
            return list(self._collector.messages)

    def to(self, address: str) -> list[Received]:
        address = address.lower()
        return [m for m in self.messages if address in (r.lower() for r in m.recipients)]

    def clear(self) -> None:
        with self._collector.lock:
            self._collector.messages.clear()

    async def deliver(self) -> int:
        """Send every due outbox message to this server; returns how many were sent."""
        from backend.notify.delivery import deliver_due

        total = 0
        while True:
            sent, failed = await deliver_due(self.settings, limit=200)
            assert failed == 0, "an outbox message could not be delivered to the test SMTP server"
            total += sent
            if sent == 0:
                return total

    def latest_code(self, address: str, pattern: re.Pattern[str] = SIX_DIGITS) -> str:
        for message in reversed(self.to(address)):
            found = pattern.search(message.body)
            if found:
                return found.group(1)
        raise AssertionError(f"no code was sent to {address}")

    async def code_for(self, address: str) -> str:
        """Deliver the outbox, then the latest six-digit code e-mailed to `address`."""
        await self.deliver()
        return self.latest_code(address)

    async def activation_code_for(self, address: str) -> str:
        await self.deliver()
        return self.latest_code(address, ACTIVATION)


def sms_code_for(phone: str) -> str:
    """The latest code texted to `phone` by the development SMS sender (saved as files)."""
    folder = config.settings().mail_dir
    texts = []
    for path in folder.glob("*-sms-*.json"):
        item = json.loads(path.read_text())
        if item["to"] == phone:
            texts.append((item["at"], path.name, item["body"]))
    for _, _, body in sorted(texts, reverse=True):
        found = SIX_DIGITS.search(body)
        if found:
            return found.group(1)
    raise AssertionError(f"no code was texted to {phone}")


@contextmanager
def serving(handler: Any = None, **options: Any) -> Iterator[SmtpServer]:
    """A real SMTP server (aiosmtpd) on a free port while the block runs, answering with
    `handler` (by default one that keeps every message); `options` go to its controller."""
    handler = _Collector() if handler is None else handler
    port = free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port, **options)
    controller.start()
    try:
        yield SmtpServer(port, handler)
    finally:
        controller.stop()


@pytest.fixture
def smtp_server() -> Iterator[SmtpServer]:
    with serving() as server:
        yield server
