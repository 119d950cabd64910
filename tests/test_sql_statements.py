"""`backend/sql.py`'s hand-written statements, the same on both databases, inside a
transaction and out of one (on PostgreSQL the first go through the connections `fetch`
keeps, the second through the transaction's)."""

from __future__ import annotations

from contextlib import AbstractAsyncContextManager, nullcontext
from typing import Any

import pytest
from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from backend import clock, sql
from backend.models import RateCounter

_INSERT = (
    'INSERT INTO "rate_counter" ("key", "window_start", "count") VALUES ($1, $2, $3)'
    ' RETURNING "count"'
)
_BUMP = 'UPDATE "rate_counter" SET "count" = "count" + 1 WHERE "key" LIKE $1'


def _place(transaction: bool) -> AbstractAsyncContextManager[Any]:
    return in_transaction() if transaction else nullcontext()


@pytest.mark.parametrize("transaction", [False, True], ids=["pooled", "in a transaction"])
async def test_execute_counts_the_rows_each_statement_changed(transaction: bool) -> None:
    window = clock.now().replace(second=0, microsecond=0)
    async with _place(transaction):
        insert = 'INSERT INTO "rate_counter" ("key", "window_start", "count") VALUES ($1, $2, 0)'
        assert await sql.execute(insert, ["a:1", window]) == 1
        assert await sql.execute(insert, ["a:2", window]) == 1
        assert await sql.execute(_BUMP, ["a:%"]) == 2
        assert await sql.execute(_BUMP, ["none:%"]) == 0
        assert await sql.execute('DELETE FROM "rate_counter" WHERE "key" = $1', ["a:2"]) == 1
    assert [(r.key, r.count) for r in await RateCounter.all()] == [("a:1", 1)]


@pytest.mark.parametrize("transaction", [False, True], ids=["pooled", "in a transaction"])
async def test_fetch_gives_the_rows_a_statement_returns_whatever_its_verb(transaction: bool) -> None:
    window = clock.now().replace(second=0, microsecond=0)
    async with _place(transaction):
        assert [row[0] for row in await sql.fetch(_INSERT, ["b", window, 4])] == [4]
        bumped = await sql.fetch(_BUMP + ' RETURNING "count"', ["b"])
        assert [row["count"] for row in bumped] == [5]
        assert await sql.fetch(_BUMP + ' RETURNING "count"', ["none"]) == []
    assert (await RateCounter.get(key="b")).count == 5


@pytest.mark.parametrize("transaction", [False, True], ids=["pooled", "in a transaction"])
async def test_a_broken_constraint_is_the_orms_integrity_error_and_writes_nothing(transaction: bool) -> None:
    window = clock.now().replace(second=0, microsecond=0)
    await sql.execute(_INSERT, ["c", window, 1])
    with pytest.raises(IntegrityError):
        async with _place(transaction):
            await sql.execute(_BUMP, ["c"])
            await sql.fetch(_INSERT, ["c", window, 9])
    with pytest.raises(IntegrityError):
        await sql.execute(_INSERT, ["c", window, 9])
    # The failed statement wrote nothing; in a transaction, neither did the one before it.
    assert [(r.key, r.count) for r in await RateCounter.all()] == [("c", 1 if transaction else 2)]
    # The connection of the failed statement is usable again.
    assert (await sql.fetch('SELECT COUNT(*) FROM "rate_counter"', []))[0][0] == 1


async def test_first_is_the_model_of_the_first_row_or_none() -> None:
    window = clock.now().replace(second=0, microsecond=0)
    made = await RateCounter.create(key="d", window_start=window, count=3)
    select = 'SELECT * FROM "rate_counter" WHERE "key" = $1'
    found = await sql.first(RateCounter, select, ["d"])
    assert isinstance(found, RateCounter)
    assert (found.id, found.key, found.window_start, found.count) == (made.id, "d", window, 3)
    assert await sql.first(RateCounter, select, ["none"]) is None
    returning_all = _INSERT.replace('RETURNING "count"', "RETURNING *")
    inserted = await sql.first(RateCounter, returning_all, ["e", window, 7])
    assert inserted is not None and (inserted.key, inserted.count, inserted.window_start) == ("e", 7, window)
