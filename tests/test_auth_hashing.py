"""Argon2 runs in threads of its own, in the idle scheduling class (the requests' thread is not),
and again at the lowest normal priority when a hash waits too long there."""

from __future__ import annotations

import asyncio
import os
import sys
import threading
import time

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


def _where_and_how() -> tuple[str, int, int]:
    """Which pool runs this, and at what scheduling class and nice value; slow in the idle one."""
    me = threading.get_native_id()
    policy = os.sched_getscheduler(0)
    if policy == os.SCHED_IDLE:
        time.sleep(1.0)  # as a starved hash would
    return threading.current_thread().name, policy, os.getpriority(os.PRIO_PROCESS, me)


async def test_a_hash_that_waits_too_long_runs_again_at_the_lowest_normal_priority(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    if not sys.platform.startswith("linux"):
        pytest.skip("per-thread scheduling classes are a Linux feature")
    monkeypatch.setattr(passwords, "PROMOTE_AFTER", 0.05)
    name, policy, nice = await passwords.off_the_loop(_where_and_how)
    # The copy in the second pool answered first: a normal class, at nice +19.
    assert name.startswith("argon2-low")
    assert policy == os.SCHED_OTHER and nice == passwords.HASHING_NICENESS

    # A hash done in time is answered by the idle pool alone.
    monkeypatch.setattr(passwords, "PROMOTE_AFTER", 30.0)
    name, policy, _ = await passwords.off_the_loop(_where_and_how)
    assert name.startswith("argon2_") and policy == os.SCHED_IDLE
    # Correct answers either way.
    stored = await passwords.hash_password("a long enough passphrase")
    monkeypatch.setattr(passwords, "PROMOTE_AFTER", 0.0)
    assert await passwords.verify_password(stored, "a long enough passphrase")
    assert not await passwords.verify_password(stored, "another long passphrase")
