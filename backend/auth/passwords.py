"""Passwords: argon2id at or above OWASP's minimum, verified off the event loop, hashed and
checked in Unicode's composed form (NFC)."""

from __future__ import annotations

import asyncio
import contextlib
import os
import threading
import unicodedata
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from enum import Enum
from pathlib import Path
from typing import Any, TypeVar

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from backend.domain.reasons import Reason, Refused

# OWASP: argon2id, m=19 MiB, t=2, p=1 at least.
HASHER = PasswordHasher(time_cost=2, memory_cost=19 * 1024, parallelism=1)
MIN_LENGTH = 12
MAX_LENGTH = 256
_COMMON_FILE = Path(__file__).with_name("common_passwords.txt")
_DUMMY_HASH = HASHER.hash("an unknown identifier costs the same as a wrong password")


# Outside the idle scheduling class (where it is refused, and in the second pool below): how
# much lower than the request threads the hashing threads run (a nice value, Linux).
HASHING_NICENESS = 19


def _nice_below_requests() -> None:
    with contextlib.suppress(AttributeError, OSError):
        me = threading.get_native_id()
        os.setpriority(os.PRIO_PROCESS, me, min(19, os.getpriority(os.PRIO_PROCESS, me) + HASHING_NICENESS))


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
    _nice_below_requests()


_THREADS = max(2, os.cpu_count() or 2)
# A pool of its own: bounded (each hash holds 19 MiB) and in the idle scheduling class.
HASHING = ThreadPoolExecutor(
    max_workers=_THREADS, thread_name_prefix="argon2", initializer=_yield_to_requests
)

# The idle class yields to every process of the host, not only to this service's requests:
# where other programs keep every core busy, a hash there gets ~0.3 % of a core (seconds to
# tens of seconds per login). A hash not done after PROMOTE_AFTER seconds is started again in
# a second pool at nice +19, which gets a share of the core however busy the host is; the
# first to finish answers. (An unprivileged process may not move a thread out of the idle
# class, hence a second pool rather than a promotion.)
PROMOTE_AFTER = 2.0
HASHING_LOW = ThreadPoolExecutor(
    max_workers=_THREADS, thread_name_prefix="argon2-low", initializer=_nice_below_requests
)


T = TypeVar("T")


async def off_the_loop(work: Callable[..., T], *args: Any) -> T:
    """`work(*args)` in the hashing pool, and in the nice +19 pool too if it waits too long."""
    loop = asyncio.get_running_loop()
    idle = loop.run_in_executor(HASHING, work, *args)
    done, _ = await asyncio.wait({idle}, timeout=PROMOTE_AFTER)
    if done:
        return idle.result()
    low = loop.run_in_executor(HASHING_LOW, work, *args)
    done, _ = await asyncio.wait({idle, low}, return_when=asyncio.FIRST_COMPLETED)
    first = idle if idle in done else low
    # The other one: never started if still queued; if running, it finishes unused.
    (low if first is idle else idle).cancel()
    return first.result()


class WeakPassword(Refused):
    """A password the policy refuses."""


def _common() -> frozenset[str]:
    if not _COMMON_FILE.exists():
        return frozenset()
    return frozenset(line.strip().lower() for line in _COMMON_FILE.read_text().splitlines() if line.strip())


COMMON = _common()


def composed(password: str) -> str:
    """The password as it is hashed: in Unicode's composed form (NFC), so that « é » typed as
    one character on one device and as « e » + U+0301 on another is one password."""
    return unicodedata.normalize("NFC", password)


def check_strength(password: str) -> None:
    password = composed(password)  # counted and compared as it will be hashed
    if len(password) < MIN_LENGTH:
        raise WeakPassword(
            f"The password must be at least {MIN_LENGTH} characters long",
            Reason.PASSWORD_TOO_SHORT,
            min=MIN_LENGTH,
        )
    if len(password) > MAX_LENGTH:
        raise WeakPassword(
            f"The password must be at most {MAX_LENGTH} characters long", Reason.PASSWORD_TOO_LONG,
            max=MAX_LENGTH,
        )
    if password.lower() in COMMON:
        raise WeakPassword("This password is too common; choose another one", Reason.PASSWORD_TOO_COMMON)


async def hash_password(password: str) -> str:
    return await off_the_loop(HASHER.hash, composed(password))


class Match(Enum):
    """How a password checked: true when it is right, in either form."""

    WRONG = "wrong"
    RIGHT = "right"
    # Right only as typed, not composed: a hash made before passwords were composed (NFC)
    # first. Login hashes it again, composed.
    RIGHT_AS_TYPED = "right as typed"

    def __bool__(self) -> bool:
        return self is not Match.WRONG


def _matches(stored: str, password: str) -> bool:
    try:
        return HASHER.verify(stored, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def _check(stored: str | None, password: str) -> Match:
    """The composed form, then the text as typed when it differs. Both are always tried for
    a text that is not composed, so the work tells neither which one matched nor whether the
    account exists (stored is None); a composed text (ASCII among them) costs one hash."""
    form = composed(password)
    right = _matches(stored or _DUMMY_HASH, form)
    as_typed = form != password and _matches(stored or _DUMMY_HASH, password)
    if stored is None or not (right or as_typed):
        return Match.WRONG
    return Match.RIGHT if right else Match.RIGHT_AS_TYPED


async def verify_password(stored: str | None, password: str) -> Match:
    """Constant work whether or not the account exists (stored is None)."""
    return await off_the_loop(_check, stored, password)


def needs_rehash(stored: str) -> bool:
    return HASHER.check_needs_rehash(stored)
