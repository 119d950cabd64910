"""Where an account's codes go, and how a destination is shown without revealing it."""

from __future__ import annotations

import hashlib
import hmac
import re
import unicodedata
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from email.utils import parseaddr

import idna

from backend.config import settings
from backend.domain.enums import CodeChannel
from backend.models import Account

EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
# A number as people write it: an optional "+", a digit, then digits and the separators
# " ", "." and "-", 6 to 20 characters in all; six digits at least (`normalize_phone`).
PHONE = re.compile(r"^\+?[0-9][0-9 .-]{5,19}$")
MIN_PHONE_DIGITS = 6
_DECOY_DOMAINS = ("gmail.com", "orange.fr", "free.fr", "laposte.net", "outlook.fr", "sfr.fr",
                  "wanadoo.fr", "yahoo.fr", "hotmail.fr", "icloud.com")


def normalize_email(raw: str) -> str | None:
    """The address trimmed, in lower case and in Unicode's composed form (NFC, as RFC 6532
    asks: `josé` typed with a combining accent is the same address), if it has the shape of
    one. A domain in Unicode must be a valid internationalised name (IDNA 2008), which the
    outbox sends in its ASCII form; otherwise no mail server could reach it. A local part in
    Unicode is kept: it reaches mail servers that offer SMTPUTF8 (docs/operations.md)."""
    email = unicodedata.normalize("NFC", (raw or "").strip()).lower()
    if not EMAIL.match(email) or len(email) > 254:
        return None
    domain = email.rpartition("@")[2]
    if not domain.isascii():
        try:
            idna.encode(domain, uts46=True)
        except UnicodeError:
            return None
    return email


def storable_email(raw: str) -> str | None:
    """`normalize_email` for an address about to be stored or written to (a sign-up, a change,
    a destination): also refused if it holds an invisible character (zero-width, direction,
    control), which would make an address that shows as another account's a different one,
    or if a mail client would read another address in it.
    Lookups keep `normalize_email`, so an address stored before this rule still signs in."""
    email = normalize_email(raw)
    if email is None or not email.isprintable():
        return None
    # As a mail client reads it (the outbox's, aiosmtplib's): `a,b@x.fr` is read as `a`, and
    # `a>b@x.fr`, `a[b]@x.fr`, `a(b)@x.fr` as another address; mail could not go to it.
    return email if parseaddr(email)[1] == email else None


def normalize_phone(raw: str) -> str | None:
    """The number as typed, if it has the shape of one: six digits at least, separators aside
    ("0-----" has the pattern's length, and one digit). An account's phone and an emergency
    contact's are read by this one rule."""
    phone = (raw or "").strip()
    if not PHONE.match(phone) or sum(c.isdigit() for c in phone) < MIN_PHONE_DIGITS:
        return None
    return phone


def mask_email(email: str) -> str:
    local, _, domain = email.partition("@")
    name, _, tld = domain.rpartition(".")
    return f"{local[:1]}•••@{name[:1]}•••.{tld}"


def mask_phone(phone: str) -> str:
    digits = re.sub(r"\D", "", phone)
    return f"•• •• •• •• {digits[-2:]}"


def texts_are_sent() -> bool:
    """False in production without an SMS plug-in (`Settings.sends_texts`)."""
    return settings().sends_texts


def codes_by_sms(channel: CodeChannel | str, phone: str | None, phone_verified: bool) -> bool:
    """Whether an account's codes go by SMS: it chose SMS, and its number was confirmed with a
    code sent to it (`confirmPhoneChange`). A number typed once and never confirmed (at
    `createRecord`, or at a contact recovery) gets no code: one wrong digit would send every
    sign-in and reset code to a stranger. `setCodeChannel` asks for the same before SMS.
    Nor where texts are not sent: a code nobody receives would lock the patient out."""
    return channel == CodeChannel.SMS and bool(phone) and phone_verified and texts_are_sent()


def destination(account: Account) -> tuple[CodeChannel, str]:
    """Where the account's codes go, for every code it is sent (login, reset, fresh second
    factor): by SMS as `codes_by_sms` says, otherwise by e-mail. An account with neither an
    address nor a confirmed number gets an empty address, which no message reaches."""
    if codes_by_sms(account.code_channel, account.phone, account.phone_verified):
        return CodeChannel.SMS, account.phone or ""
    return CodeChannel.EMAIL, account.email or ""


def masked_destination(account: Account) -> str:
    channel, address = destination(account)
    return mask_phone(address) if channel == CodeChannel.SMS else mask_email(address)


@dataclass(frozen=True)
class OwnContacts:
    """What an account is shown of its own sign-in settings: its contacts and code channel."""

    email: str | None
    phone: str | None
    code_channel: CodeChannel


async def load_own_contacts(account_ids: Sequence[uuid.UUID]) -> list[OwnContacts | None]:
    """Each account's own contacts, in one statement (a per-request loader's batch). The code
    channel is the one its codes go by (`destination`), not only the one chosen: SMS chosen
    with a number not yet confirmed is EMAIL until it is."""
    rows = await Account.filter(id__in=list(account_ids)).values_list(
        "id", "email", "phone", "phone_verified", "code_channel"
    )
    found = {
        account_id: OwnContacts(
            email or None, phone or None,
            CodeChannel.SMS if codes_by_sms(channel, phone, verified) else CodeChannel.EMAIL,
        )
        for account_id, email, phone, verified, channel in rows
    }
    return [found.get(account_id) for account_id in account_ids]


def decoy_destination(identifier: str) -> str:
    """A plausible masked address for an identifier with no usable account; stable per identifier."""
    email = normalize_email(identifier)
    if email:
        return mask_email(email)
    seed = hmac.new(settings().audit_key, b"decoy:" + identifier.encode(), hashlib.sha256).digest()
    letter = "abcdefghijklmnoprstv"[seed[0] % 20]
    return mask_email(f"{letter}x@{_DECOY_DOMAINS[seed[1] % len(_DECOY_DOMAINS)]}")
