"""The shared counter behind every rate limit: exact under parallel first uses."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any
from unittest.mock import patch

import pytest
from tortoise.transactions import in_transaction

from backend import clock
from backend.auth import limits
from backend.auth.limits import take
from backend.models import RateCounter


async def test_parallel_first_uses_of_a_counter_count_exactly_up_to_the_limit() -> None:
    window = clock.now().replace(second=0, microsecond=0)
    for round_ in range(5):
        key = f"test:parallel:{round_}"
        results = await asyncio.gather(*(take(key, window, 20) for _ in range(30)))
        # Nobody is refused below the limit, and nobody gets past it.
        assert results.count(True) == 20, results
        row = await RateCounter.get(key=key, window_start=window)
        assert row.count == 20


async def test_a_counter_made_by_another_request_in_between_is_counted_on() -> None:
    """The row appears after the update looked for it: the insert meets the row and makes
    nothing (no error, which inside a transaction would abort it), and the try counts on
    that row."""
    window = clock.now().replace(second=0, microsecond=0)
    real_fetch = limits.sql.fetch

    async def racing_fetch(statement: str, params: list[Any], conn: Any = None) -> list[Any]:
        if statement == limits._CREATE:  # another request creates the row just before this insert
            await RateCounter.create(key=params[0], window_start=params[1], count=1)
        return await real_fetch(statement, params, conn)

    async with in_transaction():
        with patch.object(limits.sql, "fetch", racing_fetch):
            assert await take("test:race", window, 5)
        # The transaction is still usable, and commits both counts.
        assert (await RateCounter.get(key="test:race", window_start=window)).count == 2
    assert (await RateCounter.get(key="test:race", window_start=window)).count == 2


async def test_a_try_takes_one_statement_while_the_window_lasts_and_two_for_its_first() -> None:
    window = clock.now().replace(second=0, microsecond=0)
    statements: list[str] = []
    real_fetch = limits.sql.fetch

    async def counted_fetch(statement: str, params: list[Any], conn: Any = None) -> list[Any]:
        statements.append(statement)
        return await real_fetch(statement, params, conn)

    with patch.object(limits.sql, "fetch", counted_fetch):
        assert await take("test:count", window, 2)
        assert statements == [limits._TAKE, limits._CREATE]
        statements.clear()
        assert await take("test:count", window, 2)
        assert statements == [limits._TAKE]
        statements.clear()
        assert not await take("test:count", window, 2)
        assert statements == [limits._TAKE, limits._CREATE, limits._TAKE]
    assert (await RateCounter.get(key="test:count", window_start=window)).count == 2


@pytest.mark.postgres
async def test_tries_on_a_window_that_exists_take_nothing_from_the_id_sequence() -> None:
    """Only a window's first use takes a value of the table's id sequence: a flood of tries,
    counted or refused, cannot use it up (an `INSERT … ON CONFLICT` takes one every call)."""
    window = clock.now().replace(second=0, microsecond=0)
    assert await take("test:sequence", window, 3)

    async def last_value() -> int:
        rows = await limits.sql.fetch("SELECT last_value FROM rate_counter_id_seq", [])
        return int(rows[0][0])

    before = await last_value()
    assert [await take("test:sequence", window, 3) for _ in range(20)] == [True, True] + [False] * 18
    assert await last_value() == before
    assert await take("test:sequence:other", window, 3)
    assert await last_value() == before + 1


async def test_a_counter_at_its_limit_refuses_and_stays_at_its_limit() -> None:
    window = clock.now().replace(second=0, microsecond=0)
    assert [await take("test:full", window, 3) for _ in range(5)] == [True, True, True, False, False]
    assert (await RateCounter.get(key="test:full", window_start=window)).count == 3
    assert await RateCounter.filter(key="test:full").count() == 1
    # Another window is another counter.
    assert await take("test:full", window + timedelta(minutes=10), 3)
