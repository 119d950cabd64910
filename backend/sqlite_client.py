"""Tortoise's SQLite client, with transactions that take the write lock when they begin.

A deferred transaction (`BEGIN`) that reads and then writes fails at once with "database is
locked" when another process committed in between (SQLite cannot upgrade a stale snapshot,
and its busy timeout does not help). `BEGIN IMMEDIATE` waits, within the busy timeout, for
the write lock first, so several `dmp serve` processes on one file queue instead of failing.
Used as the `engine` of SQLite connections by backend/db.py.
"""

from __future__ import annotations

import sqlite3

from tortoise.backends.base.client import NestedTransactionContext, TransactionContext
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


class ImmediateSqliteClient(SqliteClient):
    def _in_transaction(self) -> TransactionContext:
        return SqliteTransactionContext(ImmediateTransactionWrapper(self), self._lock)


client_class = ImmediateSqliteClient
