"""The shared counter behind every rate limit: exact under parallel first uses."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any
from unittest.mock import patch

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


async def test_a_counter_made_by_another_request_is_counted_on_inside_a_transaction() -> None:
    """The row already exists (another request made it): the try counts on it, with no
    error, which inside a transaction would abort it; and it takes one statement."""
    window = clock.now().replace(second=0, microsecond=0)
    statements: list[str] = []
    real_fetch = limits.sql.fetch

    async def counted_fetch(statement: str, params: list[Any], conn: Any = None) -> list[Any]:
        statements.append(statement)
        return await real_fetch(statement, params, conn)

    async with in_transaction():
        await RateCounter.create(key="test:race", window_start=window, count=1)
        with patch.object(limits.sql, "fetch", counted_fetch):
            assert await take("test:race", window, 5)
            assert await take("test:new", window, 5)  # a window's first use: one statement too
        assert statements == [limits._TAKE, limits._TAKE]
        # The transaction is still usable, and commits the counts.
        assert (await RateCounter.get(key="test:race", window_start=window)).count == 2
    assert (await RateCounter.get(key="test:race", window_start=window)).count == 2
    assert (await RateCounter.get(key="test:new", window_start=window)).count == 1


async def test_a_counter_at_its_limit_refuses_and_stays_at_its_limit() -> None:
    window = clock.now().replace(second=0, microsecond=0)
    assert [await take("test:full", window, 3) for _ in range(5)] == [True, True, True, False, False]
    assert (await RateCounter.get(key="test:full", window_start=window)).count == 3
    assert await RateCounter.filter(key="test:full").count() == 1
    # Another window is another counter.
    assert await take("test:full", window + timedelta(minutes=10), 3)
