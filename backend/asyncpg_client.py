"""Tortoise's asyncpg client, whose transactions give their connection back to the pool whatever
happens when they begin or end.

Tortoise's transaction context took a connection from the pool, made it the task's connection,
then began; a BEGIN that failed or was cancelled (a field cancelled by the GraphQL executor
when another one failed, asyncpg's `command_timeout`) left the block unentered, so nothing gave
the connection back or unset it: once the pool's 20 were lost so, every later statement of the
service waited forever, and a task that failed twice began its next transaction nested in the
lost one. A block that failed with a TransactionManagementError was not rolled back (asyncpg
did it when taking the connection back, reporting « Resetting connection with an active
transaction » as an error of the event loop), and the task's connection was not unset when
giving the connection back failed.

Here a transaction that cannot begin terminates its connection (a cancelled BEGIN may still
have run on the server, and the cancel request may still reach it), which gives the pool its
place back for a new one, and the task's connection is set only once the transaction has
begun. A block that ends with any error is rolled back; when that fails too, the connection is
terminated, and the block's own error is raised, not the rollback's. A commit that fails
leaves the server outside the transaction unless it was interrupted (cancelled, timed out,
the connection lost), whose connection is terminated. Otherwise the connection goes back
through asyncpg's release, which rolls back whatever is still open and terminates a
connection it cannot reset. Used as the `engine` of PostgreSQL connections by backend/db.py;
the module's name says `asyncpg`, by which Tortoise's migrations choose their schema editor.
"""

from __future__ import annotations

import contextlib
import logging
from typing import Any

import asyncpg  # type: ignore[import-untyped]
from tortoise.backends.asyncpg.client import AsyncpgDBClient, TransactionWrapper
from tortoise.backends.base.client import (
    TransactionalDBClient,
    TransactionContext,
    TransactionContextPooled,
)
from tortoise.connection import get_connections

_LOG = logging.getLogger("tortoise.db_client")


def _terminate(connection: Any) -> None:
    """Closes a pool's connection at once; the pool opens another in its place when asked."""
    with contextlib.suppress(Exception):
        connection.terminate()


async def _give_back(pool: Any, connection: Any) -> None:
    try:
        await pool.release(connection)
    except Exception as exc:  # noqa: BLE001 - asyncpg terminated it: nothing left to do with it
        _LOG.debug("a connection could not be given back: %s", type(exc).__name__)


class _ReleasingTransactionContext(TransactionContextPooled):
    """Tortoise's pooled transaction context, which gives its connection back (clean, or
    terminated) and leaves the task's connection as it was, whatever fails."""

    async def __aenter__(self) -> TransactionalDBClient:
        await self.ensure_connection()
        self._pool = self.client._parent._pool
        connection = await self._pool.acquire()
        self.client._connection = connection
        try:
            await self.client.begin()
        except BaseException:
            _terminate(connection)
            raise
        self.token = get_connections().set(self.connection_name, self.client)
        return self.client

    async def __aexit__(self, exc_type: Any, exc_val: Any, exc_tb: Any) -> None:
        connection = self.client._connection
        clean = True
        try:
            if not self.client._finalized:
                if exc_type is None:
                    try:
                        await self.client.commit()
                    except asyncpg.PostgresError:
                        raise  # the server refused the COMMIT and ended the transaction
                    except BaseException:
                        clean = False  # interrupted: committed or not, the connection is unsure
                        raise
                else:
                    # Whatever the error (Tortoise rolled back none after a
                    # TransactionManagementError); a rollback that fails (a cancelled
                    # statement's connection refuses any other at once) no longer hides it.
                    try:
                        await self.client.rollback()
                    except Exception:  # noqa: BLE001 - the block's own error is the one raised
                        clean = False
                    except BaseException:
                        clean = False
                        raise
        finally:
            get_connections().reset(self.token)
            if clean:
                await _give_back(self._pool, connection)
            else:
                _terminate(connection)


class ReleasingAsyncpgClient(AsyncpgDBClient):
    def _in_transaction(self) -> TransactionContext:
        return _ReleasingTransactionContext(TransactionWrapper(self), self._pool_init_lock)


client_class = ReleasingAsyncpgClient
