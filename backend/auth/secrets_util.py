"""Random tokens and their stored digests."""

from __future__ import annotations

import hashlib
import hmac
import secrets

from backend.config import settings


def new_token() -> str:
    """An opaque token of 256 bits, URL-safe."""
    return secrets.token_urlsafe(32)


def digest(token: str) -> str:
    """What the database stores for a high-entropy token."""
    return hashlib.sha256(token.encode()).hexdigest()


def new_code() -> str:
    """A 6-digit one-time code."""
    return f"{secrets.randbelow(1_000_000):06d}"


def code_digest(code: str, salt: str) -> str:
    """A code has little entropy: bind its digest to the row it belongs to."""
    return hmac.new(salt.encode(), code.encode(), hashlib.sha256).hexdigest()


def keyed_digest(text: str) -> str:
    """A keyed hash of `text` (the service's audit key), for a counter's name that must not hold
    an identifier or an address; `text` begins with what it counts (`sign-in:`, `import-mail:`)."""
    return hmac.new(settings().audit_key, text.encode(), hashlib.sha256).hexdigest()


def same(a: str, b: str) -> bool:
    return hmac.compare_digest(a.encode(), b.encode())
