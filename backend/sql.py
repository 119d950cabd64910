"""Hand-written statements for the paths every request takes.

The ORM builds each statement anew (pypika) and a model per row; on the consultation path
that cost more CPU than the database work itself (docs/benchmarks.md). The statements of the
hot paths (the consultation, the access history, a sign-in) are written once, as text with
`$n` placeholders, beside the code that runs them, and run here on both databases: on SQLite
`$n` becomes `?n` (numbered parameters, so one value may appear twice). Values go through
the driver as parameters, never into the text. Inside a transaction they run on the
transaction's connection, as the ORM's statements do.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import re
import sqlite3
import uuid
from collections.abc import Callable, Sequence
from functools import lru_cache
from typing import Any, TypeVar

import asyncpg  # type: ignore[import-untyped]
from tortoise import Model, timezone
from tortoise.backends.asyncpg.client import AsyncpgDBClient
from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.context import require_context
from tortoise.exceptions import IntegrityError
from tortoise.fields import Field
from tortoise.fields.data import (
    CharEnumFieldInstance,
    DateField,
    DatetimeField,
    JSONField,
    UUIDField,
)

from backend.asyncpg_client import ReleasingAsyncpgClient

M = TypeVar("M", bound=Model)

# SQLite binds UUIDs as their text form, as the ORM stores them.
sqlite3.register_adapter(uuid.UUID, str)

# The pool's own clients (backend/db.py's, and Tortoise's it derives from), not their
# transactions' (subclasses too): compared by exact type, cheaper than `isinstance`.
_POOLS = (ReleasingAsyncpgClient, AsyncpgDBClient)
_PARAM = re.compile(r"\$(\d+)")
_DB_LOG = logging.getLogger("tortoise.db_client")


@lru_cache(maxsize=512)
def _sqlite_text(sql: str) -> str:
    return _PARAM.sub(r"?\1", sql)


def default() -> BaseDBAsyncClient:
    """The current connection: the pool's, or within a transaction the transaction's.

    Through the context, as Tortoise's `get_connection` advises, which itself imports its
    module anew on every call (about half of its cost; five calls a consultation).
    """
    conn: BaseDBAsyncClient = require_context().connections.get("default")
    return conn


def is_sqlite(conn: BaseDBAsyncClient | None = None) -> bool:
    return (conn or default()).capabilities.dialect == "sqlite"


def text_for(conn: BaseDBAsyncClient, sql: str) -> str:
    """A statement written with `$n` placeholders, as `conn`'s database takes it."""
    return _sqlite_text(sql) if conn.capabilities.dialect == "sqlite" else sql


def pooled_postgres(conn: BaseDBAsyncClient | None = None) -> bool:
    """Whether `conn` (by default the current one) is PostgreSQL's pool itself, outside any
    transaction: inside one, the ORM hands out the transaction's client instead."""
    conn = conn or default()
    return type(conn) in _POOLS and conn._pool is not None


# How long a kept connection may stay idle before it goes back to asyncpg's pool.
KEPT_IDLE_SECONDS = 0.25
# How many statements a connection runs, kept, before it goes back to asyncpg's pool.
KEPT_USES = 1000


class _Kept:
    """A few of the pool's connections, kept acquired between the statements of `fetch`.

    Taking a connection from asyncpg's pool and giving it back costs more than the
    statement's own work on the client (its acquire context, a queue, and a task of
    `asyncio.shield` per release: 13 % of a consultation's instructions in-process, with five
    statements a request; docs/benchmarks.md). A statement that succeeded leaves its
    connection here instead, up to half the pool's size, for the next statement to take at
    once. The other half stays with the pool for the ORM's transactions, and what is kept
    goes back to asyncpg once idle for `KEPT_IDLE_SECONDS`, after `KEPT_USES` statements, or
    when the service disconnects: a kept connection never keeps the pool from closing or a
    transaction from starting for long. A statement that fails, or is cancelled, gives its connection back
    through asyncpg's own release, which knows what to do with it, in the background: after a
    statement timeout that release first waits for the cancel request to reach the server (up
    to `command_timeout` more when the server is frozen), and the request need not wait for it.
    """

    def __init__(self, pool: Any, limit: int) -> None:
        self.pool = pool
        self.limit = limit
        self.idle: list[tuple[Any, int]] = []  # (connection, statements run since acquired)
        self._sweep: asyncio.TimerHandle | None = None
        self._releasing: set[asyncio.Task[None]] = set()

    async def take(self) -> tuple[Any, int]:
        """A connection, and how many statements it has run since it left asyncpg's pool."""
        while self.idle:
            connection, uses = self.idle.pop()
            if not connection.is_closed():
                return connection, uses
            await self.pool.release(connection)  # asyncpg replaces it on its next acquire
        return await self.pool.acquire(), 0

    async def give_back(self, connection: Any, uses: int) -> None:
        # Kept only while asyncpg's pool still has a free connection: once it has none,
        # someone may be waiting in its queue, and a connection kept here would pass them by.
        # (Its queue is asyncpg's own; should a version lack it, nothing is kept.)
        # Every `KEPT_USES` statements a connection goes back to asyncpg all the same, which
        # resets it and applies the pool's own limits (`max_queries`, the idle lifetime): a
        # connection in constant use would otherwise never meet them.
        free = getattr(self.pool, "_queue", None)
        if (
            free is None
            or free.empty()
            or len(self.idle) >= self.limit
            or uses >= KEPT_USES
            or connection.is_closed()
        ):
            await self.pool.release(connection)
            return
        self.idle.append((connection, uses))
        if self._sweep is None:
            self._sweep = asyncio.get_running_loop().call_later(KEPT_IDLE_SECONDS, self._release_idle)

    def _release_idle(self) -> None:
        self._sweep = None
        for connection in self._drain():
            self.release_later(connection)

    def release_later(self, connection: Any) -> None:
        """Give a connection back to asyncpg in the background (awaited by `release_all`)."""
        task = asyncio.ensure_future(self.pool.release(connection))
        self._releasing.add(task)  # held until done: the loop keeps only weak references
        task.add_done_callback(self._released)

    def _released(self, task: asyncio.Task[None]) -> None:
        self._releasing.discard(task)
        if not task.cancelled() and task.exception() is not None:
            # asyncpg terminates a connection it cannot reset; nothing is left to do with it.
            _DB_LOG.debug("a connection could not be given back: %s", type(task.exception()).__name__)

    def _drain(self) -> list[Any]:
        idle, self.idle = self.idle, []
        return [connection for connection, _ in idle]

    async def release_all(self) -> None:
        if self._sweep is not None:
            self._sweep.cancel()
            self._sweep = None
        for connection in self._drain():
            await self.pool.release(connection)
        if self._releasing:
            await asyncio.gather(*self._releasing, return_exceptions=True)


def _kept(conn: AsyncpgDBClient) -> _Kept:
    kept: _Kept | None = getattr(conn, "_dmp_kept", None)
    if kept is None or kept.pool is not conn._pool:  # a new pool (reconnected, another loop)
        kept = _Kept(conn._pool, max(1, conn.pool_maxsize // 2))
        conn._dmp_kept = kept  # type: ignore[attr-defined]
    return kept


async def release_kept(conn: BaseDBAsyncClient | None = None) -> None:
    """Give the connections `fetch` keeps back to the pool (before the pool closes)."""
    kept: _Kept | None = getattr(conn or default(), "_dmp_kept", None)
    if kept is not None:
        await kept.release_all()


async def fetch(sql: str, params: Sequence[Any], conn: BaseDBAsyncClient | None = None) -> list[Any]:
    """Rows of one statement (a SELECT, or a statement with RETURNING); `conn` may be a
    transaction."""
    conn = conn or default()
    # The pool's own client first: `isinstance` with the ORM's abstract client classes runs
    # a Python-level check.
    if type(conn) in _POOLS or isinstance(conn, AsyncpgDBClient):
        found: list[Any] = await _on_asyncpg(conn, "fetch", sql, params)  # type: ignore[arg-type]
        return found
    _, rows = await conn.execute_query(text_for(conn, sql), list(params))
    return list(rows)


async def execute(sql: str, params: Sequence[Any], conn: BaseDBAsyncClient | None = None) -> int:
    """Rows changed by one INSERT, UPDATE or DELETE."""
    conn = conn or default()
    if not isinstance(conn, AsyncpgDBClient):
        changed, _ = await conn.execute_query(text_for(conn, sql), list(params))
        return changed
    status: str = await _on_asyncpg(conn, "execute", sql, params)
    # asyncpg's status tag: "UPDATE 2", "DELETE 0", "INSERT 0 1"; the count is last.
    tail = status.rpartition(" ")[2]
    return int(tail) if tail.isdigit() else 0


async def first(
    cls: type[M], sql: str, params: Sequence[Any], conn: BaseDBAsyncClient | None = None
) -> M | None:
    """The model of the first row of a statement that reads every column of `cls`'s table
    (SELECT t.* …, or RETURNING *), or None."""
    conn = conn or default()
    rows = await fetch(sql, params, conn)
    return model(cls, rows[0], conn) if rows else None


async def inserted(
    cls: type[M], sql: str, params: Sequence[Any], conn: BaseDBAsyncClient | None = None
) -> M:
    """The model of the row an `INSERT … RETURNING *` wrote."""
    row = await first(cls, sql, params, conn)
    if row is None:
        raise LookupError(f"an INSERT into {cls._meta.db_table} returned no row")
    return row


async def _on_asyncpg(conn: AsyncpgDBClient, method: str, sql: str, params: Sequence[Any]) -> Any:
    """One statement (`method`: asyncpg's `fetch` or `execute`) on asyncpg's connection
    directly, without the ORM's per-statement wrappers: one of those kept between statements
    (`_Kept`) when `conn` is the pool, the transaction's when it is a transaction's client.
    (Through the ORM's `execute_query`, a statement that starts with INSERT, UPDATE or DELETE
    gives no rows, RETURNING or not, and an INSERT's count reads as 0.) Logged as the ORM
    logs its statements; a broken constraint raised as the ORM raises it (`IntegrityError`)."""
    if _DB_LOG.isEnabledFor(logging.DEBUG):  # one call instead of `debug`'s two, when off
        _DB_LOG.debug("%s: %s", sql, params)
    try:
        if not pooled_postgres(conn):
            async with conn.acquire_connection() as connection:
                return await getattr(connection, method)(sql, *params)
        kept = _kept(conn)
        connection, uses = await kept.take()
        try:
            result = await getattr(connection, method)(sql, *params)
        except BaseException:
            kept.release_later(connection)
            raise
        await kept.give_back(connection, uses + 1)
        return result
    except asyncpg.IntegrityConstraintViolationError as exc:
        raise IntegrityError(exc) from exc


def model(cls: type[M], row: Any, conn: BaseDBAsyncClient | None = None) -> M:
    """A model instance from a row that holds every column of its table (SELECT t.*).

    The instance `cls._init_from_db(**dict(row))` builds (the ORM's own way from a row), each
    column read with the converter `reader` chooses instead of the field's own: Tortoise's
    datetime converter reads its time-zone settings on every call and its enum converter
    calls the enum, about 3 % of a consultation's time for its one record
    (docs/benchmarks.md, step 31). A row without one of the columns, or a value a converter
    refuses, goes to `_init_from_db`, which knows partial rows and raises its own errors.
    """
    conn = conn or default()
    key = (cls, conn.capabilities.dialect)
    plan = _MODEL_PLANS.get(key)
    if plan is None:
        plan = _MODEL_PLANS[key] = _model_plan(cls, conn)
    custom_pk, columns = plan
    instance = cls.__new__(cls)
    put = object.__setattr__  # as `_init_from_db`: the model's own __setattr__ is bypassed
    put(instance, "_partial", False)
    put(instance, "_saved_in_db", True)
    put(instance, "_custom_generated_pk", custom_pk)
    put(instance, "_await_when_save", {})
    try:
        for column, attribute, read in columns:
            value = row[column]
            put(instance, attribute, value if read is None else read(value))
    except Exception:  # noqa: BLE001 - the ORM's own way, with its own errors
        return cls._init_from_db(**dict(row))
    return instance


# Per model and database: whether its primary key is generated by the client, and each
# column's (name, attribute, reader or None).
_MODEL_PLANS: dict[
    tuple[type[Model], str], tuple[bool, list[tuple[str, str, Callable[[Any], Any] | None]]]
] = {}


def _model_plan(
    cls: type[Model], conn: BaseDBAsyncClient
) -> tuple[bool, list[tuple[str, str, Callable[[Any], Any] | None]]]:
    meta = cls._meta
    columns = [
        (column, attribute, reader(cls, attribute, conn))
        for attribute, column in meta.fields_db_projection.items()
    ]
    return meta.db_pk_column not in meta.generated_db_fields, columns


def value(cls: type[Model], field: str, raw: Any) -> Any:
    """A column read in a hand-written statement, as the ORM would give it (JSON, UUID, bool…)."""
    return cls._meta.fields_map[field].to_python_value(raw)


def reader(
    cls: type[Model], column: str, conn: BaseDBAsyncClient | None = None
) -> Callable[[Any], Any] | None:
    """How `conn`'s driver value of a column becomes what the ORM gives; None: it already is.

    For statements that read many rows without building models: choose once per database,
    then call per value. The choice is Tortoise's own (`MetaInfo._generate_db_fields`), with
    cheaper equivalents where its converter is slow: a dict for enums, and `fromisoformat`
    for the text dates and times of SQLite (Tortoise parses them with a regular expression,
    about 100 times slower), falling back to the field's converter for any other text.
    """
    field: Field[Any] = cls._meta.fields_map[column]
    native = (conn or default()).executor_class.DB_NATIVE
    overridden = type(field).to_python_value is not Field.to_python_value
    if field.field_type in native and (not overridden or field.skip_to_python_if_native):
        return None
    if isinstance(field, UUIDField) and uuid.UUID in native:
        return None  # the driver gives UUIDs (asyncpg), which `to_python_value` keeps as they are
    if isinstance(field, CharEnumFieldInstance):
        members: dict[Any, Any] = {m.value: m for m in field.enum_type}
        members[None] = None
        return members.__getitem__
    if isinstance(field, DatetimeField):
        return _datetime(field)
    if isinstance(field, DateField) and dt.date not in native:
        return _text_date(field)
    if isinstance(field, JSONField) and field.field_type in (dict, list, dict | list):
        return _json(field)
    if not overridden:
        convert = field.field_type
        return convert if not field.null else lambda raw: None if raw is None else convert(raw)
    return field.to_python_value


def driver_reader(cls: type[Model], column: str) -> Callable[[Any], Any]:
    """How a JSON or datetime column's value from either driver (JSON text; asyncpg's datetime
    or SQLite's text) becomes the ORM's value: the converter `reader` chooses for it on both
    databases, for values read later than their row. A datetime's reads the ORM's time zone:
    make it once the ORM has started."""
    field = cls._meta.fields_map[column]
    if isinstance(field, JSONField):
        return _json(field)
    if isinstance(field, DatetimeField):
        return _datetime(field)
    raise TypeError(f"{cls.__name__}.{column} is neither a JSON nor a datetime column")


def _json(field: JSONField[Any]) -> Callable[[Any], Any]:
    """The field's decoder on the driver's text, without the converter's checks around it
    (a Pydantic model as the field's type, bytes); anything else, and text the decoder
    refuses, goes through the field's converter, which raises its own error."""
    decode = field.decoder
    to_python = field.to_python_value

    def convert(raw: Any) -> Any:
        if type(raw) is str:
            try:
                return decode(raw)
            except ValueError:
                pass
        return to_python(raw)

    return convert


def _datetime(field: DatetimeField[Any]) -> Callable[[Any], Any]:
    """The field's converter, with shortcuts for the drivers' usual values.

    SQLite's text is parsed with `fromisoformat` where it can be (Tortoise parses it with a
    regular expression, about 100 times slower). An aware datetime in UTC (`datetime.UTC`:
    asyncpg's `timestamptz`, or SQLite's text once parsed) is moved to the ORM's default time
    zone directly, where the converter checks its settings and the value each time (2 % of
    a consultation's CPU, step 23 in docs/benchmarks.md); the settings are read once here,
    as Tortoise caches them once per process. Anything else goes through the converter.
    """
    to_python = field.to_python_value
    zone = timezone.get_default_timezone() if timezone.get_use_tz() else None

    def convert(raw: Any) -> Any:
        if isinstance(raw, str):
            try:
                raw = dt.datetime.fromisoformat(raw)
            except ValueError:
                pass
        if zone is not None and type(raw) is dt.datetime and raw.tzinfo is dt.UTC:
            return raw.astimezone(zone)
        return to_python(raw)

    return convert


def _text_date(field: DateField[Any]) -> Callable[[Any], Any]:
    def convert(raw: Any) -> Any:
        if isinstance(raw, str):
            try:
                return dt.date.fromisoformat(raw)
            except ValueError:
                pass
        return field.to_python_value(raw)

    return convert
