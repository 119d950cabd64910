"""The connections `sql.fetch` keeps between statements (backend/sql.py, `_Kept`).

On PostgreSQL a statement that succeeded leaves its connection for the next one, up to half
the pool, while asyncpg's pool still has a free connection; failed and cancelled statements
give theirs back through asyncpg; what is kept goes back once idle, or on `release_kept`. On
SQLite nothing is kept: statements go through the ORM's connection.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from backend import sql
from tests.conftest import db_kind

POSTGRES = db_kind() == "postgres"


def _pool() -> Any:
    return sql.default()._pool  # type: ignore[attr-defined]


async def _pid() -> int:
    return int((await sql.fetch("SELECT pg_backend_pid()", []))[0][0])


async def _all_back() -> None:
    await sql.release_kept()
    pool = _pool()
    assert pool.get_idle_size() == pool.get_size()


async def test_sqlite_keeps_nothing() -> None:
    if POSTGRES:
        assert sql.pooled_postgres()
        return
    assert not sql.pooled_postgres()
    assert (await sql.fetch("SELECT 1", []))[0][0] == 1
    assert getattr(sql.default(), "_dmp_kept", None) is None


# The tests below are about PostgreSQL's pool, and deselected on SQLite; SQLite's case is
# the test above.
postgres_only = pytest.mark.postgres


@pytest.fixture
async def kept() -> Any:
    """The default connection's kept connections, none kept before and after the test."""
    await _all_back()
    yield sql._kept(sql.default())  # type: ignore[arg-type]
    await _all_back()


@postgres_only
async def test_the_next_statement_takes_the_kept_connection(kept: Any) -> None:
    first = await _pid()
    assert len(kept.idle) == 1
    assert await _pid() == first
    assert len(kept.idle) == 1
    await sql.release_kept()
    assert kept.idle == [] and _pool().get_idle_size() == _pool().get_size()


@postgres_only
async def test_at_most_half_the_pool_is_kept(kept: Any) -> None:
    client = sql.default()
    assert kept.limit == client.pool_maxsize // 2  # type: ignore[attr-defined]
    # More statements at once than may be kept, fewer than the pool holds.
    statements = kept.limit + 2
    assert statements < client.pool_maxsize  # type: ignore[attr-defined]
    pids = await asyncio.gather(*(sql.fetch("SELECT pg_backend_pid() FROM pg_sleep(0.05)", [])
                                  for _ in range(statements)))
    assert len({row[0][0] for row in pids}) == statements  # each its own connection
    assert len(kept.idle) == kept.limit
    pool = _pool()
    assert pool.get_idle_size() == pool.get_size() - kept.limit


@postgres_only
async def test_kept_connections_go_back_once_idle(kept: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sql, "KEPT_IDLE_SECONDS", 0.05)
    await _pid()
    assert len(kept.idle) == 1
    for _ in range(100):
        await asyncio.sleep(0.02)
        if not kept.idle and not kept._releasing:
            break
    assert kept.idle == []
    assert _pool().get_idle_size() == _pool().get_size()


@postgres_only
async def test_a_failed_statement_gives_its_connection_back_to_asyncpg(kept: Any) -> None:
    import asyncpg  # type: ignore[import-untyped]

    with pytest.raises(asyncpg.DivisionByZeroError):
        await sql.fetch("SELECT 1 / $1::int", [0])
    assert kept.idle == []
    await asyncio.gather(*kept._releasing)  # given back in the background
    assert _pool().get_idle_size() == _pool().get_size()
    assert (await sql.fetch("SELECT 1 / $1::int", [1]))[0][0] == 1


@postgres_only
async def test_a_cancelled_statement_gives_its_connection_back_to_asyncpg(kept: Any) -> None:
    task = asyncio.ensure_future(sql.fetch("SELECT pg_sleep(5)", []))
    await asyncio.sleep(0.2)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert kept.idle == []
    await asyncio.gather(*kept._releasing)
    assert (await sql.fetch("SELECT 2", []))[0][0] == 2  # the pool still serves
    assert _pool().get_idle_size() == _pool().get_size() - len(kept.idle)


@postgres_only
async def test_nothing_is_kept_while_the_pool_has_no_free_connection(kept: Any) -> None:
    """Someone may wait in asyncpg's queue: the connection goes to them, not to the next statement."""
    pool = _pool()
    held = [await pool.acquire() for _ in range(pool.get_max_size() - 1)]
    try:
        assert (await sql.fetch("SELECT 3", []))[0][0] == 3  # the last free connection
        assert kept.idle == []
        waiter = asyncio.ensure_future(pool.acquire())
        assert (await sql.fetch("SELECT 4", []))[0][0] == 4  # takes it, then hands it on
        held.append(await asyncio.wait_for(waiter, 5))
        assert kept.idle == []
    finally:
        for connection in held:
            await pool.release(connection)


@postgres_only
async def test_a_connection_goes_back_to_asyncpg_after_so_many_statements(
    kept: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Even in constant use, so that asyncpg resets it and applies `max_queries` to it."""
    monkeypatch.setattr(sql, "KEPT_USES", 3)
    pool = _pool()
    first = await _pid()
    assert [uses for _, uses in kept.idle] == [1]
    assert await _pid() == first and [uses for _, uses in kept.idle] == [2]
    assert await _pid() == first  # the third statement: back to asyncpg
    assert kept.idle == []
    assert pool.get_idle_size() == pool.get_size()  # asyncpg has it back
    await _pid()  # a connection from asyncpg again, counted from one
    assert [uses for _, uses in kept.idle] == [1]


@postgres_only
async def test_a_failed_statement_does_not_wait_for_its_connection_to_go_back(
    kept: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """After a statement timeout asyncpg's release waits for the cancel to reach the server
    (up to `command_timeout` more when it is frozen): the caller hears of the failure first,
    the connection goes back in the background, and `release_kept` waits for it."""
    import asyncpg  # type: ignore[import-untyped]

    pool = _pool()
    release = asyncpg.Pool.release
    may_go_back = asyncio.Event()

    async def slow_release(self: Any, connection: Any, **options: Any) -> None:
        await may_go_back.wait()
        await release(self, connection, **options)

    monkeypatch.setattr(asyncpg.Pool, "release", slow_release)  # the pool's slots are read-only
    with pytest.raises(asyncpg.DivisionByZeroError):
        await asyncio.wait_for(sql.fetch("SELECT 1 / $1::int", [0]), 5)
    assert len(kept._releasing) == 1 and kept.idle == []
    assert pool.get_idle_size() == pool.get_size() - 1  # still on its way back
    closing = asyncio.ensure_future(sql.release_kept())
    await asyncio.sleep(0.05)
    assert not closing.done()  # the pool is not closed under it
    may_go_back.set()
    await asyncio.wait_for(closing, 5)
    assert not kept._releasing
    assert pool.get_idle_size() == pool.get_size()
