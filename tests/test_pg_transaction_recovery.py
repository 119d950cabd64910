"""A PostgreSQL transaction that cannot begin gives its connection back (backend/asyncpg_client.py).

Tortoise's transaction context took a connection from the pool, made it the task's, then
began: when the BEGIN failed or was cancelled (a GraphQL field cancelled as another fails,
asyncpg's `command_timeout`), nothing gave the connection back or unset it. Once the pool's
connections were lost so, every later statement waited forever. Each step here runs under a
time limit, so the old code fails instead of hanging. The failures are made by wrapping the
asyncpg transaction wrapper's `begin` (the real BEGIN runs first, on the server), and go
through the real transaction context of the service's client.
"""

from __future__ import annotations

import asyncio
import importlib
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any, TypeVar

import asyncpg  # type: ignore[import-untyped]
import pytest
from tortoise.backends.asyncpg.client import TransactionWrapper
from tortoise.connection import get_connections
from tortoise.transactions import in_transaction

from backend import db, sql
from backend.asyncpg_client import ReleasingAsyncpgClient
from tests.conftest import DB_URL

pytestmark = pytest.mark.postgres

T = TypeVar("T")
LIMIT = 5.0  # seconds; the old code waited forever
NAME = "pg_recovery_test"
TABLE = "pg_recovery_note"


async def limited(step: Awaitable[T]) -> T:
    return await asyncio.wait_for(step, LIMIT)


def _client_class() -> Any:
    """The client class of the service's PostgreSQL connections, as Tortoise finds it."""
    engine = db.tortoise_config(DB_URL)["connections"]["default"]["engine"]
    return importlib.import_module(engine).client_class


@pytest.fixture
async def client() -> AsyncIterator[Any]:
    """The service's PostgreSQL client, as backend/db.py configures it, with a pool of 2 and a
    table of its own."""
    credentials = {**db.tortoise_config(DB_URL)["connections"]["default"]["credentials"],
                   "minsize": 1, "maxsize": 2}
    made = _client_class()(connection_name=NAME, **credentials)
    await made.execute_script(f'CREATE TABLE "{TABLE}" (id SERIAL PRIMARY KEY, body TEXT NOT NULL)')
    try:
        yield made
    finally:
        try:
            await limited(made.execute_script(f'DROP TABLE IF EXISTS "{TABLE}"'))
        finally:
            await asyncio.wait_for(made.close(), 15)


@pytest.fixture
def failing_begin(monkeypatch: pytest.MonkeyPatch) -> Callable[[Callable[[Any], Awaitable[None]]], None]:
    """Makes every transaction's BEGIN run, then `after(wrapper)` (which raises)."""
    begin = TransactionWrapper.begin

    def install(after: Callable[[Any], Awaitable[None]]) -> None:
        async def begin_then_fail(self: Any) -> None:
            await begin(self)
            await after(self)

        monkeypatch.setattr(TransactionWrapper, "begin", begin_then_fail)

    return install


async def _timed_out(_wrapper: Any) -> None:
    raise TimeoutError("BEGIN timed out (made by the test)")


async def _all_back(pool: Any) -> None:
    """Every connection of the pool can be taken at once, and none of the database's sessions
    is left inside a transaction."""
    taken = [await limited(pool.acquire()) for _ in range(pool.get_max_size())]
    for connection in taken:
        await pool.release(connection)
    for _ in range(50):  # a terminated connection's session ends on the server soon after
        rows = await limited(sql.fetch(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
            " AND state LIKE 'idle in transaction%'", []))
        if rows[0][0] == 0:
            return
        await asyncio.sleep(0.05)
    raise AssertionError("a session was left inside a transaction")


async def _notes(client: Any) -> list[str]:
    _, rows = await limited(client.execute_query(f'SELECT body FROM "{TABLE}" ORDER BY id'))
    return [row["body"] for row in rows]


async def _write(client: Any, body: str) -> None:
    async with client._in_transaction() as tx:
        await tx.execute_insert(f'INSERT INTO "{TABLE}" (body) VALUES ($1)', [body])


async def test_postgres_urls_use_the_releasing_client() -> None:
    assert _client_class() is ReleasingAsyncpgClient
    assert type(sql.default()) is ReleasingAsyncpgClient
    # Tortoise's migrations choose their schema editor by the client's module name.
    assert "asyncpg" in ReleasingAsyncpgClient.__module__
    from tortoise.migrations.executor import MigrationExecutor
    from tortoise.migrations.schema_editor.asyncpg import AsyncpgSchemaEditor

    executor = MigrationExecutor(sql.default(), db.tortoise_config(DB_URL)["apps"])
    assert type(executor._schema_editor()) is AsyncpgSchemaEditor


async def test_more_transactions_than_the_pool_holds_fail_to_begin_and_the_service_goes_on(
    failing_begin: Callable[..., None],
) -> None:
    """The service's own connection (a pool of 20): 25 transactions, each in its task, whose
    BEGIN ran on the server and then timed out; and two more in this task."""
    await sql.release_kept()
    pool = sql.default()._pool  # type: ignore[attr-defined]
    failing_begin(_timed_out)

    async def one() -> None:
        async with in_transaction():
            raise AssertionError("the block does not run")

    for _ in range(pool.get_max_size() + 5):
        with pytest.raises(TimeoutError, match="made by the test"):
            await limited(asyncio.ensure_future(one()))
    for _ in range(2):  # in this task: the next one was begun nested in the lost one
        with pytest.raises(TimeoutError, match="made by the test"):
            await limited(one())
    # The task's connection is the pool's again, not a transaction's (closing the connections
    # then failed: `AttributeError: _template`).
    assert type(sql.default()) is ReleasingAsyncpgClient
    assert all(not isinstance(conn, TransactionWrapper) for conn in get_connections().all())
    failing_begin(lambda _wrapper: asyncio.sleep(0))  # BEGIN succeeds again

    assert (await limited(sql.fetch("SELECT 1", [])))[0][0] == 1
    async with in_transaction() as tx:
        assert isinstance(tx, TransactionWrapper) and tx._connection.is_in_transaction()
        assert (await limited(tx.execute_query("SELECT 2")))[1][0][0] == 2
    await sql.release_kept()
    await _all_back(pool)


async def test_transactions_cancelled_during_their_begin_leave_the_pool_whole(
    client: Any, failing_begin: Callable[..., None],
) -> None:
    """Cancelled while asyncpg waits for the server, the BEGIN already run there: the
    connection is mid-cancel and inside a transaction; it must not go back as it is."""
    started = asyncio.Event()

    async def wait_on_the_server(wrapper: Any) -> None:
        started.set()
        await wrapper._connection.execute("SELECT pg_sleep(5)")

    failing_begin(wait_on_the_server)
    for attempt in range(client.pool_maxsize + 2):
        started.clear()
        task = asyncio.ensure_future(_write(client, f"cancelled {attempt}"))
        await limited(started.wait())
        await asyncio.sleep(0.05)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await limited(task)
    failing_begin(lambda _wrapper: asyncio.sleep(0))

    await limited(_write(client, "after"))
    assert await _notes(client) == ["after"]
    await _all_back(client._pool)


async def test_a_block_cancelled_during_a_statement_ends_cancelled(client: Any) -> None:
    """Its rollback is refused at once by a connection still cancelling the statement: the
    block still ends cancelled, nothing of it written, and the pool whole."""
    started = asyncio.Event()

    async def block() -> None:
        async with client._in_transaction() as tx:
            await tx.execute_insert(f'INSERT INTO "{TABLE}" (body) VALUES ($1)', ["undone"])
            started.set()
            await tx.execute_query("SELECT pg_sleep(5)")

    task = asyncio.ensure_future(block())
    await limited(started.wait())
    await asyncio.sleep(0.05)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await limited(task)
    assert await _notes(client) == []
    await limited(_write(client, "after"))
    assert await _notes(client) == ["after"]
    await _all_back(client._pool)


async def test_a_block_that_fails_with_a_transaction_error_is_rolled_back(client: Any) -> None:
    """Tortoise rolled back no block failing with a TransactionManagementError: asyncpg did,
    giving the connection back, reporting « Resetting connection with an active transaction »
    as an error of the event loop."""
    from tortoise.exceptions import TransactionManagementError

    reported: list[str] = []
    loop = asyncio.get_running_loop()
    handler = loop.get_exception_handler()
    loop.set_exception_handler(lambda _loop, context: reported.append(str(context.get("message"))))
    try:
        with pytest.raises(TransactionManagementError):
            async with client._in_transaction() as tx:
                await tx.execute_insert(f'INSERT INTO "{TABLE}" (body) VALUES ($1)', ["undone"])
                raise TransactionManagementError("a nested transaction failed")
        assert await _notes(client) == []
        await _all_back(client._pool)
    finally:
        loop.set_exception_handler(handler)
    assert reported == []


async def test_a_transaction_whose_commit_fails_gives_its_connection_back(client: Any) -> None:
    """A deferred foreign key refuses the COMMIT: nothing is written, and the connection goes
    back to the pool outside any transaction."""
    await client.execute_script(
        'CREATE TABLE "pg_recovery_link" (id SERIAL PRIMARY KEY, note_id INTEGER'
        f' REFERENCES "{TABLE}" (id) DEFERRABLE INITIALLY DEFERRED)')
    try:
        with pytest.raises(asyncpg.ForeignKeyViolationError):
            async with client._in_transaction() as tx:
                await tx.execute_insert(f'INSERT INTO "{TABLE}" (body) VALUES ($1)', ["undone"])
                await tx.execute_insert('INSERT INTO "pg_recovery_link" (note_id) VALUES ($1)', [999])
        assert await _notes(client) == []
        await _all_back(client._pool)
        await limited(_write(client, "after"))
        assert await _notes(client) == ["after"]
    finally:
        await client.execute_script('DROP TABLE "pg_recovery_link"')
