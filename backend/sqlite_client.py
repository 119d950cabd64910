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
so that failure comes before any worker thread. Used as the `engine` of SQLite connections by
backend/db.py.
"""

from __future__ import annotations

import asyncio
import sqlite3
from typing import Any

from tortoise.backends.base.client import ConnectionWrapper, NestedTransactionContext, TransactionContext
from tortoise.backends.sqlite.client import (
    SqliteClient,
    SqliteTransactionContext,
    SqliteTransactionWrapper,
)
from tortoise.exceptions import TransactionManagementError


class ImmediateTransactionWrapper(SqliteTransactionWrapper):
    async def begin(self) -> None:
        try:
            await self._connection.commit()
            await self._connection.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError as exc:
            raise TransactionManagementError(exc) from exc

    def _in_transaction(self) -> TransactionContext:
        return NestedTransactionContext(ImmediateTransactionWrapper(self))


class _ReleasingConnection(ConnectionWrapper[Any]):
    async def __aenter__(self) -> Any:
        await self._lock.acquire()
        try:
            await self.ensure_connection()
        except BaseException:
            self._lock.release()
            raise
        return self.connection


def _open_and_close(filename: str) -> None:
    sqlite3.connect(filename).close()


class ImmediateSqliteClient(SqliteClient):
    async def create_connection(self, with_db: bool) -> None:
        if not self._connection:
            await asyncio.to_thread(_open_and_close, self.filename)
        await super().create_connection(with_db)

    def acquire_connection(self) -> ConnectionWrapper[Any]:
        return _ReleasingConnection(self._lock, self)

    def _in_transaction(self) -> TransactionContext:
        return SqliteTransactionContext(ImmediateTransactionWrapper(self), self._lock)


client_class = ImmediateSqliteClient
