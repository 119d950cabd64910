"""Hand-written statements for the paths every request takes.

The ORM builds each statement anew (pypika) and a model per row; on the consultation path
that cost more CPU than the database work itself (docs/benchmarks.md). The few statements
run on every request are written here once, as text, with `$n` placeholders, and run on
both databases: on SQLite `$n` becomes `?n` (numbered parameters, so one value may appear
twice). Values go through the driver as parameters, never into the text.
"""

from __future__ import annotations

import re
import sqlite3
import uuid
from collections.abc import Sequence
from functools import lru_cache
from typing import Any, TypeVar

from tortoise import Model, connections
from tortoise.backends.base.client import BaseDBAsyncClient

M = TypeVar("M", bound=Model)

# SQLite binds UUIDs as their text form, as the ORM stores them.
sqlite3.register_adapter(uuid.UUID, str)

_PARAM = re.compile(r"\$(\d+)")


@lru_cache(maxsize=512)
def _sqlite_text(sql: str) -> str:
    return _PARAM.sub(r"?\1", sql)


def default() -> BaseDBAsyncClient:
    conn: BaseDBAsyncClient = connections.get("default")
    return conn


def is_sqlite(conn: BaseDBAsyncClient | None = None) -> bool:
    return (conn or default()).capabilities.dialect == "sqlite"


def text_for(conn: BaseDBAsyncClient, sql: str) -> str:
    """A statement written with `$n` placeholders, as `conn`'s database takes it."""
    return _sqlite_text(sql) if conn.capabilities.dialect == "sqlite" else sql


async def fetch(sql: str, params: Sequence[Any], conn: BaseDBAsyncClient | None = None) -> list[Any]:
    """Rows of one statement (a SELECT, or a WITH … SELECT); `conn` may be a transaction."""
    conn = conn or default()
    _, rows = await conn.execute_query(text_for(conn, sql), list(params))
    return list(rows)


async def execute(sql: str, params: Sequence[Any], conn: BaseDBAsyncClient | None = None) -> int:
    """Rows changed by one INSERT, UPDATE or DELETE."""
    conn = conn or default()
    changed, _ = await conn.execute_query(text_for(conn, sql), list(params))
    return changed


def model(cls: type[M], row: Any) -> M:
    """A model instance from a row that holds every column of its table (SELECT t.*)."""
    return cls._init_from_db(**dict(row))


def value(cls: type[Model], field: str, raw: Any) -> Any:
    """A column read in a hand-written statement, as the ORM would give it (JSON, UUID, bool…)."""
    return cls._meta.fields_map[field].to_python_value(raw)
