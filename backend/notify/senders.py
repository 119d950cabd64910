"""Where messages go: a real SMTP server, or the development mailbox on disk."""

from __future__ import annotations

import json
import os
import re
from email.message import EmailMessage
from pathlib import Path
from typing import Protocol

import aiosmtplib

from backend import clock
from backend.config import Settings


class Sender(Protocol):
    async def send(self, recipient: str, subject: str, body: str) -> None: ...


class SmtpSender:
    def __init__(self, cfg: Settings) -> None:
        self.cfg = cfg

    async def send(self, recipient: str, subject: str, body: str) -> None:
        message = EmailMessage()
        message["From"] = self.cfg.mail_from
        message["To"] = recipient
        message["Subject"] = subject
        message.set_content(body)
        await aiosmtplib.send(
            message,
            hostname=self.cfg.smtp_host,
            port=self.cfg.smtp_port,
            username=self.cfg.smtp_username,
            password=self.cfg.smtp_password,
            start_tls=self.cfg.smtp_starttls,
            timeout=10,
        )


class DevMailbox:
    """Development only: messages saved as files and listed at /dev/mail, never logged."""

    def __init__(self, folder: Path, channel: str) -> None:
        self.folder = folder
        self.channel = channel

    async def send(self, recipient: str, subject: str, body: str) -> None:
        # The messages hold live one-time codes: readable by the service's user only.
        self.folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        stamp = clock.now().strftime("%Y%m%dT%H%M%S%f")
        safe = re.sub(r"[^A-Za-z0-9@._+-]", "_", recipient)[:80]
        path = self.folder / f"{stamp}-{self.channel}-{safe}.json"
        payload = {"to": recipient, "subject": subject, "body": body, "channel": self.channel,
                   "at": clock.now().isoformat()}
        # Written aside, then renamed: /dev/mail (and whoever reads the folder) never sees a
        # half-written message; the temporary name does not end in .json.
        written = path.with_name(f".{path.name}.tmp")
        fd = os.open(written, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(json.dumps(payload, ensure_ascii=False, indent=1))
        os.replace(written, path)


def email_sender(cfg: Settings) -> Sender:
    if cfg.smtp_host:
        return SmtpSender(cfg)
    return DevMailbox(cfg.mail_dir, "email")


def sms_sender(cfg: Settings) -> Sender:
    if cfg.sms_backend == "dev":
        return DevMailbox(cfg.mail_dir, "sms")
    raise ValueError(f"unknown DMP_SMS_BACKEND {cfg.sms_backend!r}")
