"""Tortoise's SQLite client, with transactions that take the write lock when they begin, and
a connection lock released when opening the connection fails.

A deferred transaction (`BEGIN`) that reads and then writes fails at once with "database is
locked" when another process committed in between (SQLite cannot upgrade a stale snapshot,
and its busy timeout does not help). `BEGIN IMMEDIATE` waits, within the busy timeout, for
the write lock first, so several `dmp serve` processes on one file queue instead of failing.
Tortoise's connection wrapper takes its lock, then opens the connection: when the opening
fails (a file that is not a database), the lock stayed taken and the next statement waited for
it forever, so `dmp migrate` hung instead of reporting the error. When the file cannot be
opened at all (a folder that does not exist), aiosqlite stops the worker thread it started
without waiting for it, and the thread then reported to an event loop the command had
closed: a traceback after the command's one-line error. The file is opened once here first,
so that failure comes before any worker thread. A file that is not there is created only when
the connection is configured to (`create`, for the migrations): any other command given a path
with a typo made an empty database there, then said to run `dmp migrate`; and a folder that
does not exist was « unable to open database file ». Both are now one MissingDatabase naming the
path. Used as the `engine` of SQLite connections by backend/db.py.

A transaction takes the same connection lock for its whole length. Tortoise's transaction
context took it, then began (`BEGIN IMMEDIATE`), and released it only when the block ended: a
`BEGIN IMMEDIATE` that waited out the busy timeout (another process holding the write lock
longer) raised before the block began, the lock stayed taken, and every later statement of the
service waited for it forever, also once the other process had let go. Here a transaction that
cannot begin rolls back what it may have started and releases the lock; and a block that ends
with any error, or a commit that fails, rolls back before the lock is released, so no later
statement runs inside a transaction left open (as for `execute_many` outside a transaction).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import sqlite3
from typing import Any

from tortoise.backends.base.client import (
    ConnectionWrapper,
    NestedTransactionContext,
    TransactionalDBClient,
    TransactionContext,
)
from tortoise.backends.sqlite.client import (
    SqliteClient,
    SqliteTransactionContext,
    SqliteTransactionWrapper,
    translate_exceptions,
)
from tortoise.connection import get_connections
from tortoise.exceptions import TransactionManagementError

from backend.db import MissingDatabase


class ImmediateTransactionWrapper(SqliteTransactionWrapper):
    async def begin(self) -> None:
        try:
            await self._connection.commit()
            await self._connection.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError as exc:
            raise TransactionManagementError(exc) from exc

    def _in_transaction(self) -> TransactionContext:
        return NestedTransactionContext(ImmediateTransactionWrapper(self))


async def _roll_back(connection: Any) -> None:
    """Rolls back whatever transaction `connection` (aiosqlite's) has open; nothing when none is
    (sqlite3 then sends no ROLLBACK). Queued on its worker thread before any await, so it runs
    before any statement queued after it, even when the task is cancelled meanwhile."""
    with contextlib.suppress(sqlite3.Error, ValueError):  # ValueError: the connection is closed
        await connection.rollback()


class _ImmediateTransactionContext(SqliteTransactionContext):
    """Tortoise's SQLite transaction context, which releases the connection lock (and never sets
    the task's connection) when the connection cannot be opened or the transaction cannot
    begin, and rolls back before releasing it when the block or its commit fails."""

    async def __aenter__(self) -> TransactionalDBClient:
        await self._trxlock.acquire()
        try:
            await self.ensure_connection()
            try:
                await self.connection.begin()
            except BaseException:
                # A `BEGIN IMMEDIATE` cancelled while it waits may still succeed on the worker
                # thread: the rollback, queued after it, undoes it.
                await _roll_back(self.connection._connection)
                raise
        except BaseException:
            self._trxlock.release()
            raise
        client: TransactionalDBClient = self.connection
        self.token = get_connections().set(self.connection_name, client)
        return client

    async def __aexit__(self, exc_type: Any, exc_val: Any, exc_tb: Any) -> None:
        try:
            if not self.connection._finalized:
                if exc_type:
                    # Whatever the error (Tortoise left a TransactionManagementError's
                    # transaction open on the shared connection: the next statements ran in it).
                    await _roll_back(self.connection._connection)
                    self.connection._finalized = True
                else:
                    try:
                        await self.connection.commit()
                    except BaseException:
                        await _roll_back(self.connection._connection)
                        raise
        finally:
            get_connections().reset(self.token)
            self._trxlock.release()


class _ReleasingConnection(ConnectionWrapper[Any]):
    async def __aenter__(self) -> Any:
        await self._lock.acquire()
        try:
            await self.ensure_connection()
        except BaseException:
            self._lock.release()
            raise
        return self.connection


def _check_there(filename: str, *, create: bool) -> None:
    """Raises MissingDatabase when `filename` is not there and is not to be created, or
    cannot be: its folder is not there."""
    if filename == ":memory:" or os.path.lexists(filename):
        return
    path = os.path.abspath(filename)
    folder = os.path.dirname(path)
    if not os.path.isdir(folder):
        state = "is not a folder" if os.path.lexists(folder) else "does not exist"
        if create:
            raise MissingDatabase(f"cannot create the SQLite database {path}: the folder {folder} {state} "
                                  "(correct the path in DMP_DATABASE_URL, or create the folder first)")
        raise MissingDatabase(f"there is no SQLite database at {path}: the folder {folder} {state} "
                              "(correct the path in DMP_DATABASE_URL; a new database: create the folder, "
                              "then run dmp migrate)")
    if not create:
        raise MissingDatabase(f"there is no SQLite database at {path}: correct the path in "
                              "DMP_DATABASE_URL, or run dmp migrate to create a new database there")


def _open_and_close(filename: str, *, create: bool) -> None:
    _check_there(filename, create=create)
    sqlite3.connect(filename).close()


class ImmediateSqliteClient(SqliteClient):
    def __init__(self, file_path: str, *, create: bool = False, **kwargs: Any) -> None:
        super().__init__(file_path, **kwargs)  # its other parameters are PRAGMAs
        self.create = create

    async def create_connection(self, with_db: bool) -> None:
        if not self._connection:
            await asyncio.to_thread(_open_and_close, self.filename, create=self.create)
        await super().create_connection(with_db)

    def acquire_connection(self) -> ConnectionWrapper[Any]:
        return _ReleasingConnection(self._lock, self)

    @translate_exceptions
    async def execute_many(self, query: str, values: list[list[Any]]) -> None:
        """Tortoise's, outside a transaction, which rolled back only on an `Exception`: a
        cancelled one left its BEGIN open on the shared connection, and the next statements ran
        inside it, uncommitted, holding the write lock."""
        async with self.acquire_connection() as connection:
            self.log.debug("%s: %s", query, values)
            await connection.execute("BEGIN")
            try:
                await connection.executemany(query, values)
                await connection.commit()
            except BaseException:
                await _roll_back(connection)
                raise

    def _in_transaction(self) -> TransactionContext:
        return _ImmediateTransactionContext(ImmediateTransactionWrapper(self), self._lock)


client_class = ImmediateSqliteClient
