"""The shared counter behind every rate limit: exact under parallel first uses."""

from __future__ import annotations

import asyncio

from backend import clock
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
