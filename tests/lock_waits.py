"""Waiting, in a test, until PostgreSQL sessions queue on a lock: how races are forced in a
known order (a second connection holds a row lock, the requests under test line up behind)."""

from __future__ import annotations

import asyncio

import asyncpg  # type: ignore[import-untyped]

from tests.conftest import RUN_DB


async def waiting(watch: asyncpg.Connection, count: int) -> None:
    """Until `count` sessions of the test database wait on a lock."""
    for _ in range(400):
        waiting = await watch.fetchval(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = $1 AND wait_event_type = 'Lock'",
            RUN_DB,
        )
        if waiting >= count:
            return
        await asyncio.sleep(0.02)
    raise AssertionError(f"fewer than {count} sessions ever waited on a lock")
