"""Passwords: argon2id at or above OWASP's minimum, verified off the event loop."""

from __future__ import annotations

import asyncio
from pathlib import Path

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

# OWASP: argon2id, m=19 MiB, t=2, p=1 at least.
HASHER = PasswordHasher(time_cost=2, memory_cost=19 * 1024, parallelism=1)
MIN_LENGTH = 12
_COMMON_FILE = Path(__file__).with_name("common_passwords.txt")
_DUMMY_HASH = HASHER.hash("an unknown identifier costs the same as a wrong password")


class WeakPassword(ValueError):
    pass


def _common() -> frozenset[str]:
    if not _COMMON_FILE.exists():
        return frozenset()
    return frozenset(line.strip().lower() for line in _COMMON_FILE.read_text().splitlines() if line.strip())


COMMON = _common()


def check_strength(password: str) -> None:
    if len(password) < MIN_LENGTH:
        raise WeakPassword(f"The password must be at least {MIN_LENGTH} characters long")
    if len(password) > 256:
        raise WeakPassword("The password must be at most 256 characters long")
    if password.lower() in COMMON:
        raise WeakPassword("This password is too common; choose another one")


async def hash_password(password: str) -> str:
    return await asyncio.to_thread(HASHER.hash, password)


def _verify(stored: str | None, password: str) -> bool:
    try:
        return HASHER.verify(stored or _DUMMY_HASH, password) and stored is not None
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


async def verify_password(stored: str | None, password: str) -> bool:
    """Constant work whether or not the account exists (stored is None)."""
    return await asyncio.to_thread(_verify, stored, password)


def needs_rehash(stored: str) -> bool:
    return HASHER.check_needs_rehash(stored)
