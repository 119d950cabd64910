"""Argon2 runs in threads of its own, at a lower priority than the requests' thread."""

from __future__ import annotations

import asyncio
import os
import sys
import threading

import pytest

from backend.auth import passwords


def _nice_here() -> int:
    return os.getpriority(os.PRIO_PROCESS, threading.get_native_id())


async def test_hashing_threads_run_below_the_event_loop_thread() -> None:
    if not sys.platform.startswith("linux"):
        pytest.skip("per-thread nice values are a Linux feature")
    loop = asyncio.get_running_loop()
    here = _nice_here()
    # The first task starts the pool's thread (its initializer lowers its priority).
    stored = await passwords.hash_password("a long enough passphrase")
    there = await loop.run_in_executor(passwords.HASHING, _nice_here)
    assert there == min(19, here + passwords.HASHING_NICENESS)
    assert _nice_here() == here  # the request thread is left as it was
    assert await passwords.verify_password(stored, "a long enough passphrase")
    assert not await passwords.verify_password(stored, "another long passphrase")
    assert not await passwords.verify_password(None, "a long enough passphrase")
