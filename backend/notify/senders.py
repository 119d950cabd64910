"""Where messages go: a real SMTP server, an SMS plug-in, or the development mailbox on disk."""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import inspect
import ipaddress
import json
import logging
import os
import re
from collections.abc import Callable
from email.message import EmailMessage
from email.utils import parseaddr
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any, Protocol

import aiosmtplib
import idna

from backend import clock
from backend.config import SMS_PLUGIN_GROUP, ConfigError, Settings

log = logging.getLogger("dmp.outbox")

# The longest a send may take, from the connection to the server's (or provider's) answer:
# a server that hangs is cut off then, and the message counts as failed and is retried with
# the outbox's back-off. The outbox's claim on a message is derived from it (delivery.CLAIM).
SEND_TIMEOUT = 30.0
# A QUIT after the server took the message: a courtesy, bounded, never a failure.
QUIT_TIMEOUT = 2.0


class Sender(Protocol):
    async def send(self, recipient: str, subject: str, body: str) -> None: ...


class Undeliverable(Exception):
    """This message cannot be sent, however often it is tried: the outbox marks it failed
    for good instead of retrying it. The message says why, never the address."""


def mail_address(address: str) -> str:
    """`address` as any mail server takes it: a domain in Unicode in its ASCII form (IDNA 2008,
    `exémple.fr` → `xn--exmple-cva.fr`). A local part in Unicode (`josé@`) has no ASCII form:
    it needs a server that offers SMTPUTF8, as does a domain that is no valid IDNA name."""
    local, _, domain = address.rpartition("@")
    if domain.isascii():
        return address
    try:
        return f"{local}@{idna.encode(domain, uts46=True).decode('ascii')}"
    except UnicodeError:  # idna's errors quote the domain: not kept
        return address


# Submissions (RFC 8314): TLS from the first byte. Spoken to in clear, such a server waited
# for a TLS greeting while aiosmtplib waited for the SMTP one, until the timeout, every time.
IMPLICIT_TLS_PORT = 465


class SmtpSender:
    """E-mail through DMP_SMTP_HOST. DMP_SMTP_STARTTLS=true requires STARTTLS and a certificate
    the system trusts; false never asks for it; unset, STARTTLS is used where the server offers
    it, its certificate not checked (opportunistic, as mail servers do: Postfix's
    `smtp_tls_security_level = may`). Unchecked, it still keeps the codes from whoever only
    listens on the network; checked, a relay's self-signed certificate would stop all mail.
    Port 465 speaks TLS from the first byte, its certificate checked."""

    def __init__(self, cfg: Settings) -> None:
        self.cfg = cfg

    def _client(self, *, opportunistic: bool) -> aiosmtplib.SMTP:
        implicit = self.cfg.smtp_port == IMPLICIT_TLS_PORT
        return aiosmtplib.SMTP(
            hostname=self.cfg.smtp_host,
            port=self.cfg.smtp_port,
            # Opportunistic: the credentials are given once STARTTLS is over or refused (send).
            username=None if opportunistic else self.cfg.smtp_username,
            password=None if opportunistic else self.cfg.smtp_password,
            use_tls=implicit,
            start_tls=not implicit and self.cfg.smtp_starttls is True,
            # Only STARTTLS's certificate goes unchecked, and only when opportunistic.
            validate_certs=not opportunistic,
            timeout=10,  # each step; SEND_TIMEOUT bounds them all (one slow answer after another)
        )

    async def send(self, recipient: str, subject: str, body: str) -> None:
        address = mail_address(recipient)
        # The mail server is given the address as its reader (aiosmtplib's) takes it: read
        # otherwise, `a,b@x.fr` went to `a`, a mailbox of the server itself, and `a>b@x.fr` to `a`.
        if parseaddr(address)[1] != address:
            raise Undeliverable("the address is not one mail can go to as written")
        message = EmailMessage()
        try:
            message["From"] = self.cfg.mail_from
            message["To"] = address
            message["Subject"] = subject
        except ValueError:  # a line break: written as it is, it would add a header
            raise Undeliverable("a line break in the address or the subject") from None
        message.set_content(body)
        opportunistic = self.cfg.smtp_starttls is None and self.cfg.smtp_port != IMPLICIT_TLS_PORT
        smtp = self._client(opportunistic=opportunistic)
        try:
            async with asyncio.timeout(SEND_TIMEOUT):
                await smtp.connect()
                if opportunistic and not await _starttls_if_offered(smtp):
                    smtp.close()
                    # A TLS the server offered and could not make: the message goes in clear
                    # over a new connection, as it would to a server that does not offer TLS
                    # (Postfix's `may` falls back so too). Failed instead, it would be retried
                    # to fail the same way until the code expired. One who can break the
                    # handshake could as well have struck STARTTLS from the server's answer.
                    smtp = self._client(opportunistic=True)
                    await smtp.connect()
                if opportunistic and self.cfg.smtp_username and self.cfg.smtp_password:
                    # To this machine only: email_sender refuses credentials otherwise.
                    await smtp.login(self.cfg.smtp_username, self.cfg.smtp_password)
                await _transmit(smtp, address, message)
        except BaseException:
            smtp.close()  # at once: a QUIT to a server that hangs would wait once more
            raise
        try:
            # Not under SEND_TIMEOUT: a QUIT that timed out would count a message the server
            # has taken as failed, and send it again.
            with contextlib.suppress(aiosmtplib.SMTPException, OSError):
                await smtp.quit(timeout=QUIT_TIMEOUT)
        finally:
            smtp.close()


async def _starttls_if_offered(smtp: aiosmtplib.SMTP) -> bool:
    """STARTTLS if the server's EHLO answer offers it; False if it was offered and failed
    (refused, a handshake that did not complete, or a TLS the server broke off at the first
    encrypted command): the connection is then of no use."""
    if smtp.is_ehlo_or_helo_needed:
        try:
            await smtp.ehlo()
        except aiosmtplib.SMTPHeloError:
            await smtp.helo()  # a server without EHLO offers no extension: no STARTTLS
    if not smtp.supports_extension("starttls"):
        return True
    try:
        await smtp.starttls()
        # The EHLO that must follow STARTTLS, within it: with TLS 1.3 the client's handshake
        # is over before the server has checked it, and a server that then refuses it (a
        # client certificate it requires) answers this first encrypted command with an alert.
        # Nothing of the message has been sent yet, so it still goes in clear.
        await smtp.ehlo()
    except (aiosmtplib.SMTPException, OSError) as exc:  # ssl.SSLError is an OSError
        log.warning("opportunistic STARTTLS failed, the message is sent without TLS",
                    extra={"error": type(exc).__name__})
        return False
    return True


async def _transmit(smtp: aiosmtplib.SMTP, address: str, message: EmailMessage) -> None:
    if not address.isascii():
        if smtp.is_ehlo_or_helo_needed:
            await smtp.ehlo()
        # Without SMTPUTF8 the address cannot even be written to the server: trying
        # again would fail the same way for ever (aiosmtplib's SMTPNotSupported).
        if not smtp.supports_extension("smtputf8"):
            raise Undeliverable(
                "the mail server does not offer SMTPUTF8, which this recipient's "
                "non-ASCII address needs"
            )
    try:
        # The envelope names the address alone (read back from the To header, `x@y.fr (a), b@z.fr`
        # would be two).
        await smtp.send_message(message, recipients=[address])
    except ValueError:  # aiosmtplib's: a control character the protocol cannot carry
        raise Undeliverable("a control character in the address") from None
    except aiosmtplib.SMTPRecipientsRefused as exc:
        codes = sorted({refused.code for refused in exc.recipients})
        # 5xx is the server's "never": an unknown mailbox, a domain it will not
        # relay to. 4xx (a full mailbox, greylisting) is tried again later.
        if codes and all(500 <= code < 600 for code in codes):
            raise Undeliverable(  # the code only: the server's words name the address
                f"the mail server refused the recipient for good ({', '.join(map(str, codes))})"
            ) from None
        raise


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


def _loopback(host: str) -> bool:
    """A host named so that the connection cannot leave the machine: `localhost` (RFC 6761)
    or a loopback address (127.0.0.0/8, ::1)."""
    name = host.strip().rstrip(".").lower()
    if name == "localhost" or name.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(name.strip("[]")).is_loopback
    except ValueError:
        return False


def email_sender(cfg: Settings) -> Sender:
    if cfg.smtp_host:
        # aiosmtplib sends AUTH over whatever connection it has: without STARTTLS the
        # password (and every code after it) would cross the network in clear. Opportunistic
        # STARTTLS (DMP_SMTP_STARTTLS unset) does not count: whoever is on the way can strike
        # it from the server's answer, and would be sent the password in clear.
        encrypted = cfg.smtp_starttls is True or cfg.smtp_port == IMPLICIT_TLS_PORT
        if cfg.smtp_username and not encrypted and not _loopback(cfg.smtp_host):
            raise ConfigError(
                "DMP_SMTP_USERNAME and DMP_SMTP_PASSWORD are sent to DMP_SMTP_HOST only over an "
                f"encrypted connection: set DMP_SMTP_STARTTLS=true, or DMP_SMTP_PORT={IMPLICIT_TLS_PORT} "
                "(TLS from the start), or relay through localhost"
            )
        return SmtpSender(cfg)
    return DevMailbox(cfg.mail_dir, "email")


# How long a plug-in's `send` may take: SEND_TIMEOUT, as for e-mail (a provider that hangs
# must not hold up the e-mails behind it, nor outlast the outbox's claim on the text).
SMS_SEND_TIMEOUT = SEND_TIMEOUT


class SmsPlugin(Protocol):
    """What an SMS plug-in's factory returns (docs/operations.md, "SMS plug-ins")."""

    async def send(self, phone: str, text: str) -> None: ...


# France's overseas numbers: 10 digits from 0 in the French plan, yet reached from abroad
# (an SMS provider's E.164) under their own country code, not +33 (ARCEP): Réunion and
# Mayotte +262, Guadeloupe, Saint-Martin and Saint-Barthélemy +590, Guyane +594, Martinique
# +596; the number's own digits follow, its 0 dropped (0692 12 34 56: +262 692 12 34 56).
OVERSEAS = {
    "262": "262", "263": "262", "269": "262", "639": "262", "692": "262", "693": "262",
    "590": "590", "690": "590", "691": "590",
    "594": "594", "694": "594",
    "596": "596", "696": "596", "697": "596",
}


def international(phone: str) -> str:
    """A number as patients write it (`06 12 34 56 78`, `+33 6…`, `0033 6…`), as SMS
    providers take it: `+` and digits (E.164). A number of 10 digits starting with 0 is a
    French one, under its overseas code where it has one (`0692…`: `+262692…`); any other
    without `+` or `00` is passed on as its digits."""
    digits = re.sub(r"\D", "", phone)
    if not phone.lstrip().startswith("+"):
        if digits.startswith("00"):
            digits = digits[2:]
        elif len(digits) == 10 and digits.startswith("0"):
            digits = f"33{digits[1:]}"
        else:
            return digits
    if digits.startswith("33"):
        # French: the 0 some write after +33 (`+33 06…`) dropped, an overseas number under its code.
        national = digits[2:]
        if len(national) == 10 and national.startswith("0"):
            national = national[1:]
        if len(national) == 9 and national[:3] in OVERSEAS:
            return f"+{OVERSEAS[national[:3]]}{national}"
        return f"+33{national}"
    return f"+{digits}"


class PluginSms:
    """An SMS plug-in behind the outbox's sender interface: the number in international form,
    the text alone (an SMS has no subject), within SMS_SEND_TIMEOUT. Whatever the plug-in
    raises fails the message, which is retried; the outbox keeps and logs only the
    exception's type, never its message. A plug-in raises Undeliverable where the provider
    refuses for good (a number of no network): the text is then never retried."""

    def __init__(self, plugin: SmsPlugin) -> None:
        self.plugin = plugin

    async def send(self, recipient: str, subject: str, body: str) -> None:
        try:
            await asyncio.wait_for(self.plugin.send(international(recipient), body), SMS_SEND_TIMEOUT)
        except Undeliverable:
            # Its words are the plug-in's, which may repeat the number or the code: not kept.
            raise Undeliverable("the SMS provider refused the number for good") from None


def _refused(reference: str, why: str) -> ConfigError:
    return ConfigError(f"DMP_SMS_BACKEND={reference}: {why}")


# Environment variables whose values are secrets by their names (a provider's key, token or
# password): a plug-in's error message printed at start must not repeat them.
_SECRET_NAME = re.compile(r"KEY|SECRET|TOKEN|PASSWORD|PASSWD|PASS_?PHRASE|CREDENTIAL|AUTH", re.IGNORECASE)
_SECRET_MIN = 4  # shorter values would hide ordinary words and digits, and guard nothing


def _scrubbed(exc: Exception) -> str:
    """An exception raised by a plug-in's import or factory, as `Type: message`, with the value
    of every secret-named environment variable replaced by `<NAME>`: the message says what
    the plug-in lacks, and is printed where the operator starts the service."""
    message = f"{type(exc).__name__}: {exc}"
    secrets = sorted(
        ((name, value) for name, value in os.environ.items()
         if len(value) >= _SECRET_MIN and _SECRET_NAME.search(name)),
        key=lambda item: -len(item[1]),  # a longer value first, where one contains another
    )
    for name, value in secrets:
        message = message.replace(value, f"<{name}>")
    return message


def _sms_factory(reference: str) -> Callable[[], Any]:
    """The callable a plug-in reference names: `package.module:attribute`, or an installed
    package's entry point of that name in the group `dmp.sms_senders`."""
    target: Any
    if ":" in reference:
        module_name, _, attribute = reference.partition(":")
        try:
            target = importlib.import_module(module_name)
        except Exception as exc:  # noqa: BLE001 - an import error, or the module's own
            raise _refused(reference, f"cannot import {module_name} ({_scrubbed(exc)})") from None
        for part in attribute.split("."):
            if not hasattr(target, part):
                raise _refused(reference, f"{module_name} has no {attribute}")
            target = getattr(target, part)
    else:
        found = entry_points(group=SMS_PLUGIN_GROUP, name=reference)
        if not found:
            names = sorted({point.name for point in entry_points(group=SMS_PLUGIN_GROUP)})
            installed = ", ".join(names) if names else "none"
            raise _refused(reference, f"no installed plug-in has this name (entry points of "
                                      f"{SMS_PLUGIN_GROUP}: {installed})")
        point = next(iter(found))
        try:
            target = point.load()
        except Exception as exc:  # noqa: BLE001 - an import error, or the module's own
            raise _refused(reference, f"cannot load {point.value} ({_scrubbed(exc)})") from None
    if not callable(target):
        raise _refused(reference, "this is not a class or a function that makes the sender")
    return target  # type: ignore[no-any-return]


def sms_plugin(reference: str) -> PluginSms:
    """The plug-in's sender, made by calling its factory without arguments (it reads its own
    settings, such as a provider's key, from the environment). ConfigError, naming the
    variable, if it cannot be found or made, or has no `async def send(phone, text)`."""
    factory = _sms_factory(reference)
    try:
        plugin = factory()
    except Exception as exc:  # noqa: BLE001 - the plug-in says what it lacks
        raise _refused(reference, f"the plug-in could not be made ({_scrubbed(exc)})") from None
    if not inspect.iscoroutinefunction(getattr(plugin, "send", None)):
        raise _refused(reference, "the plug-in has no `async def send(phone, text)`")
    return PluginSms(plugin)


def sms_sender(cfg: Settings) -> Sender:
    if cfg.sms_backend == "dev":
        return DevMailbox(cfg.mail_dir, "sms")
    return sms_plugin(cfg.sms_backend)


def check_senders(cfg: Settings) -> None:
    """At start: a sender that cannot be made would fail every message of its channel,
    retried for ever, so the service refuses to start instead (ConfigError)."""
    email_sender(cfg)
    sms_sender(cfg)
