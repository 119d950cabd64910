"""A SQLite transaction that cannot begin leaves the service usable (backend/sqlite_client.py).

Another process held the write lock past the busy timeout: the transaction's `BEGIN
IMMEDIATE` failed, as it should, but the connection lock Tortoise's transaction context had
taken was never released, and every later statement waited for it forever, also once the
other process had let go (/healthz unavailable, every request hanging). Each step here runs
under a time limit, so the old code fails instead of hanging.

The busy timeout (10 s, backend/db.py, whatever the URL says) is shortened to 0.2 s on the
connection itself. The engine's tests use a SQLite file of their own, and run the same in both
passes; the service's, through the app, runs in the SQLite pass (see below).
"""

from __future__ import annotations

import asyncio
import sqlite3
import uuid
from collections.abc import AsyncIterator, Awaitable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

import httpx
import pytest
from tortoise import Tortoise
from tortoise.exceptions import TransactionManagementError
from tortoise.transactions import in_transaction

from backend import db
from backend.models import AccessEvent
from backend.sqlite_client import ImmediateSqliteClient
from tests.conftest import DB_URL, TEST_DIR, db_kind
from tests.history_helpers import READ, setup

T = TypeVar("T")
BUSY_MS = 200
LIMIT = 5.0  # seconds: far above the busy timeout; the old code waited forever


async def limited(step: Awaitable[T]) -> T:
    return await asyncio.wait_for(step, LIMIT)


@contextmanager
def write_lock_held(path: str) -> Iterator[None]:
    """Another process's connection holding SQLite's write lock, until the block ends."""
    other = sqlite3.connect(path, isolation_level=None)
    try:
        other.execute("BEGIN IMMEDIATE")
        yield
        other.execute("ROLLBACK")
    finally:
        other.close()


def _write_lock_free(path: str) -> bool:
    other = sqlite3.connect(path, isolation_level=None, timeout=0)
    try:
        other.execute("BEGIN IMMEDIATE")
        other.execute("ROLLBACK")
        return True
    except sqlite3.OperationalError:
        return False
    finally:
        other.close()


@pytest.fixture
async def engine() -> AsyncIterator[tuple[ImmediateSqliteClient, str]]:
    """The service's SQLite client, as backend/db.py configures it, on a file of its own with
    one table, and a busy timeout of BUSY_MS."""
    path = str(TEST_DIR / f"busy-{uuid.uuid4().hex[:8]}.sqlite3")
    config = db.tortoise_config(f"sqlite://{path}", create=True)["connections"]["default"]
    assert config["engine"] == "backend.sqlite_client"
    credentials = {**config["credentials"], "busy_timeout": BUSY_MS}
    client = ImmediateSqliteClient(connection_name="busy_test", **credentials)
    await client.execute_script("CREATE TABLE note (id INTEGER PRIMARY KEY, body TEXT)")
    try:
        yield client, path
    finally:
        await client.close()


async def _notes(client: ImmediateSqliteClient) -> list[str]:
    _, rows = await limited(client.execute_query("SELECT body FROM note ORDER BY id"))
    return [row["body"] for row in rows]


async def _write(client: ImmediateSqliteClient, body: str) -> None:
    async with client._in_transaction() as tx:
        await tx.execute_insert("INSERT INTO note (body) VALUES (?)", [body])


async def test_a_transaction_that_cannot_begin_releases_the_connection(
    engine: tuple[ImmediateSqliteClient, str],
) -> None:
    client, path = engine
    with write_lock_held(path):
        with pytest.raises(TransactionManagementError, match="locked"):
            await limited(_write(client, "refused"))
    # The other process let go: the next write and read go through, and nothing of the
    # refused one was written.
    await limited(_write(client, "after"))
    assert await _notes(client) == ["after"]
    # Twice in a row, and a plain statement between: nothing was left taken.
    with write_lock_held(path):
        for _ in range(2):
            with pytest.raises(TransactionManagementError):
                await limited(_write(client, "refused"))
    await limited(client.execute_insert("INSERT INTO note (body) VALUES (?)", ["plain"]))
    await limited(_write(client, "last"))
    assert await _notes(client) == ["after", "plain", "last"]
    assert _write_lock_free(path)


async def _cancelled_while_it_waits(client: ImmediateSqliteClient, path: str, work: Awaitable[Any]) -> None:
    """`work` started while another process holds the write lock, cancelled while it waits for
    it; the other process then lets go within the busy timeout, so that what `work` began on
    aiosqlite's thread (its BEGIN) takes the lock and is to be rolled back."""
    await client.execute_script(f"PRAGMA busy_timeout={LIMIT * 1000 / 4:.0f}")
    other = sqlite3.connect(path, isolation_level=None)
    try:
        other.execute("BEGIN IMMEDIATE")
        task = asyncio.ensure_future(work)
        await asyncio.sleep(0.2)
        task.cancel()
        other.execute("ROLLBACK")
        with pytest.raises(asyncio.CancelledError):
            await limited(task)
    finally:
        other.close()


async def test_a_transaction_cancelled_while_it_waits_to_begin_leaves_nothing_open(
    engine: tuple[ImmediateSqliteClient, str],
) -> None:
    """Cancelled while `BEGIN IMMEDIATE` waits for the other process: the lock is released,
    and the BEGIN, which may still succeed on aiosqlite's thread, is rolled back."""
    client, path = engine
    await _cancelled_while_it_waits(client, path, _write(client, "cancelled"))
    await limited(_write(client, "after"))
    assert await _notes(client) == ["after"]
    assert _write_lock_free(path)


async def test_statements_run_together_and_cancelled_leave_nothing_open(
    engine: tuple[ImmediateSqliteClient, str],
) -> None:
    """`execute_many` outside a transaction, cancelled while it waits for the write lock: its
    BEGIN stayed open, the inserts went through once the other process let go, and the next
    statement ran inside that transaction, never committed, holding the write lock."""
    client, path = engine
    await _cancelled_while_it_waits(client, path, client.execute_many(
        "INSERT INTO note (body) VALUES (?)", [["cancelled"], ["cancelled too"]]))
    await limited(client.execute_insert("INSERT INTO note (body) VALUES (?)", ["after"]))
    with sqlite3.connect(path) as reader:  # committed: another process sees it
        assert [row[0] for row in reader.execute("SELECT body FROM note ORDER BY id")] == ["after"]
    assert _write_lock_free(path)


async def test_a_block_that_fails_with_a_transaction_error_is_rolled_back(
    engine: tuple[ImmediateSqliteClient, str],
) -> None:
    """Tortoise rolled back a failed block unless its error was a TransactionManagementError
    (as a nested transaction's raises): the transaction stayed open on the shared connection,
    holding the write lock, and the next statements ran inside it."""
    client, path = engine
    with pytest.raises(TransactionManagementError):
        async with client._in_transaction() as tx:
            await tx.execute_insert("INSERT INTO note (body) VALUES (?)", ["undone"])
            raise TransactionManagementError("a nested transaction failed")
    assert _write_lock_free(path)
    assert await _notes(client) == []
    await limited(_write(client, "after"))
    assert await _notes(client) == ["after"]


async def test_a_transaction_whose_commit_fails_is_rolled_back(
    engine: tuple[ImmediateSqliteClient, str],
) -> None:
    """A COMMIT that fails (here a deferred foreign key) leaves SQLite's transaction open: it
    stayed open on the shared connection, and the next statements ran inside it."""
    client, path = engine
    await client.execute_script(
        "CREATE TABLE link (id INTEGER PRIMARY KEY, note_id INTEGER"
        " REFERENCES note (id) DEFERRABLE INITIALLY DEFERRED)")
    with pytest.raises(sqlite3.IntegrityError, match="FOREIGN KEY"):
        async with client._in_transaction() as tx:
            await tx.execute_insert("INSERT INTO note (body) VALUES (?)", ["undone"])
            await tx.execute_insert("INSERT INTO link (note_id) VALUES (?)", [999])
    assert _write_lock_free(path)
    await limited(client.execute_insert("INSERT INTO note (body) VALUES (?)", ["after"]))
    with sqlite3.connect(path) as reader:
        assert [row[0] for row in reader.execute("SELECT body FROM note ORDER BY id")] == ["after"]


async def test_a_nested_transaction_after_a_refused_one_still_works(
    engine: tuple[ImmediateSqliteClient, str],
) -> None:
    client, path = engine
    with write_lock_held(path), pytest.raises(TransactionManagementError):
        await limited(_write(client, "refused"))

    async def nested() -> None:
        async with client._in_transaction() as tx:
            await tx.execute_insert("INSERT INTO note (body) VALUES (?)", ["outer"])
            with pytest.raises(ValueError):
                async with tx._in_transaction() as inner:
                    await inner.execute_insert("INSERT INTO note (body) VALUES (?)", ["inner"])
                    raise ValueError("the inner block fails")

    await limited(nested())
    assert await _notes(client) == ["outer"]


@pytest.fixture
async def short_busy_timeout() -> AsyncIterator[str]:
    """The path of the service's SQLite database, its busy timeout BUSY_MS for the test."""
    conn = Tortoise.get_connection("default")
    await conn.execute_script(f"PRAGMA busy_timeout={BUSY_MS}")
    try:
        yield DB_URL.removeprefix("sqlite://")
    finally:
        await asyncio.wait_for(conn.execute_script("PRAGMA busy_timeout=10000"), LIMIT)


async def _the_service_recovers(client: httpx.AsyncClient, path: str) -> None:
    s = await setup(client)
    ins = s["record"].ins
    before = await AccessEvent.filter(record_id=s["record"].id).count()
    with write_lock_held(path):
        refused = await limited(s["as_pro"].gql(READ, {"ins": ins}))
        assert refused.codes == ["INTERNAL"] and refused.data is None
    assert await limited(AccessEvent.filter(record_id=s["record"].id).count()) == before

    health = await limited(client.get("/healthz"))
    assert (health.status_code, health.json()) == (200, {"status": "ok"})
    read = (await limited(s["as_pro"].gql(READ, {"ins": ins}))).ok()
    assert read["patientRecord"]["medications"]["edges"] == [{"node": {"title": "Amoxicilline"}}]
    assert await limited(AccessEvent.filter(record_id=s["record"].id).count()) == before + 1
    async with in_transaction() as conn:  # a write of the service's own
        await limited(conn.execute_query("UPDATE record SET event_seq = event_seq WHERE id = ?",
                                          [str(s["record"].id)]))
    assert _write_lock_free(path)


# The service runs on SQLite in the SQLite pass only. Moving it to a SQLite file for the test
# in the PostgreSQL pass does not work: Tortoise caches each model's INSERT text by connection
# name, not by dialect, so the statements of one database were sent to the other. The test is
# defined in the SQLite pass, as tests marked `postgres` are deselected in the other; the tests
# of the engine above run in both.
if db_kind() == "sqlite":

    async def test_the_service_recovers_once_the_write_lock_is_released(
        short_busy_timeout: str, client: httpx.AsyncClient,
    ) -> None:
        """The security probe's steps, through the app: a read whose access event cannot be
        written is refused; once the other process lets go, health, reads and writes are back."""
        await _the_service_recovers(client, short_busy_timeout)
