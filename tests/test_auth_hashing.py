"""Argon2 runs in threads of its own, in the idle scheduling class (the requests' thread is not)."""

from __future__ import annotations

import asyncio
import os
import sys

import pytest

from backend.auth import passwords


def _policy_here() -> int:
    return os.sched_getscheduler(0)


async def test_hashing_threads_run_below_the_event_loop_thread() -> None:
    if not sys.platform.startswith("linux"):
        pytest.skip("per-thread scheduling classes are a Linux feature")
    loop = asyncio.get_running_loop()
    here = _policy_here()
    assert here != os.SCHED_IDLE
    # The first task starts the pool's thread (its initializer moves it to the idle class).
    stored = await passwords.hash_password("a long enough passphrase")
    there = await loop.run_in_executor(passwords.HASHING, _policy_here)
    assert there == os.SCHED_IDLE
    assert _policy_here() == here  # the request thread is left as it was
    assert await passwords.verify_password(stored, "a long enough passphrase")
    assert not await passwords.verify_password(stored, "another long passphrase")
    assert not await passwords.verify_password(None, "a long enough passphrase")
