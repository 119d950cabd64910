"""Passwords: argon2id at or above OWASP's minimum, verified off the event loop."""

from __future__ import annotations

import asyncio
import contextlib
import os
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from backend.domain.reasons import Reason, Refused

# OWASP: argon2id, m=19 MiB, t=2, p=1 at least.
HASHER = PasswordHasher(time_cost=2, memory_cost=19 * 1024, parallelism=1)
MIN_LENGTH = 12
_COMMON_FILE = Path(__file__).with_name("common_passwords.txt")
_DUMMY_HASH = HASHER.hash("an unknown identifier costs the same as a wrong password")


# Where the idle scheduling class is refused: how much lower than the request threads the
# hashing threads run (a nice value, Linux).
HASHING_NICENESS = 19


def _yield_to_requests() -> None:
    """Hashing threads run only when the request thread leaves the CPU free (Linux).

    Argon2 is deliberately expensive (tens of ms of CPU per login). In its own threads it no
    longer blocks the event loop, but on a busy core it would still take the CPU from the
    requests in flight. In Linux's idle scheduling class (SCHED_IDLE) a hashing thread gives
    the core up as soon as the request thread wakes: consultations keep their latency, and a
    login waits for a free moment (seconds on a saturated server, docs/operations.md). Where
    the class is refused, the lowest nice value does most of the same; elsewhere, a no-op.
    """
    with contextlib.suppress(AttributeError, OSError):
        os.sched_setscheduler(0, os.SCHED_IDLE, os.sched_param(0))  # this thread only
        return
    with contextlib.suppress(AttributeError, OSError):
        me = threading.get_native_id()
        os.setpriority(os.PRIO_PROCESS, me, min(19, os.getpriority(os.PRIO_PROCESS, me) + HASHING_NICENESS))


# A pool of its own: bounded (each hash holds 19 MiB) and in the idle scheduling class.
HASHING = ThreadPoolExecutor(
    max_workers=max(2, os.cpu_count() or 2), thread_name_prefix="argon2", initializer=_yield_to_requests
)


class WeakPassword(Refused):
    """A password the policy refuses."""


def _common() -> frozenset[str]:
    if not _COMMON_FILE.exists():
        return frozenset()
    return frozenset(line.strip().lower() for line in _COMMON_FILE.read_text().splitlines() if line.strip())


COMMON = _common()


def check_strength(password: str) -> None:
    if len(password) < MIN_LENGTH:
        raise WeakPassword(
            f"The password must be at least {MIN_LENGTH} characters long",
            Reason.PASSWORD_TOO_SHORT,
            min=MIN_LENGTH,
        )
    if len(password) > 256:
        raise WeakPassword(
            "The password must be at most 256 characters long", Reason.PASSWORD_TOO_LONG, max=256
        )
    if password.lower() in COMMON:
        raise WeakPassword("This password is too common; choose another one", Reason.PASSWORD_TOO_COMMON)


async def hash_password(password: str) -> str:
    return await asyncio.get_running_loop().run_in_executor(HASHING, HASHER.hash, password)


def _verify(stored: str | None, password: str) -> bool:
    try:
        return HASHER.verify(stored or _DUMMY_HASH, password) and stored is not None
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


async def verify_password(stored: str | None, password: str) -> bool:
    """Constant work whether or not the account exists (stored is None)."""
    return await asyncio.get_running_loop().run_in_executor(HASHING, _verify, stored, password)


def needs_rehash(stored: str) -> bool:
    return HASHER.check_needs_rehash(stored)
