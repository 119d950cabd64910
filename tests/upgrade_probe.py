"""A database of an earlier release, upgraded: `await upgraded(target, table, rows)` migrates a
throwaway database up to the migration `target`, writes `rows` into `table` as that release's
schema held them, migrates the database to the last migration and returns the table's rows.

Each migration runs in a process of its own (migrating initialises Tortoise globally):
`python -m tests.upgrade_probe URL TABLE TARGET ROWS` migrates the database at URL up to
TARGET and writes ROWS (JSON, from `_encode`); `python -m tests.upgrade_probe URL TABLE`
migrates it to the last migration and prints the table's rows (JSON)."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import json
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator
from typing import Any

from tortoise import Tortoise, connections
from tortoise.migrations.api import migrate

from backend import db, sql


async def upgraded(target: str, table: str, rows: list[dict[str, object]]) -> list[dict[str, Any]]:
    """The rows of `table` after the upgrade, each value as JSON has it (`str` where JSON has
    no type of its own)."""
    async with _throwaway_database() as url:
        old = _run(url, table, target, json.dumps([{k: _encode(v) for k, v in r.items()} for r in rows]))
        assert old.returncode == 0, old.stderr
        new = _run(url, table)
        assert new.returncode == 0, new.stderr
        result: list[dict[str, Any]] = json.loads(new.stdout.strip().splitlines()[-1])
        return result


@contextlib.asynccontextmanager
async def _throwaway_database() -> AsyncIterator[str]:
    # Here, not at the top: the probe's own process has no use for the test settings.
    from tests.conftest import BASE_DB_URL, TEST_DIR, _admin, db_kind

    name = f"dmp_upgrade_{uuid.uuid4().hex[:8]}"
    if db_kind() == "postgres":
        await _admin(f'CREATE DATABASE "{name}"')
        url = BASE_DB_URL.rsplit("/", 1)[0] + "/" + name
    else:
        url = f"sqlite://{TEST_DIR / (name + '.sqlite3')}"
    try:
        yield url
    finally:
        if db_kind() == "postgres":
            await _admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _run(url: str, table: str, *target_and_rows: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "tests.upgrade_probe", url, table, *target_and_rows],
        capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL,
    )


def _encode(value: object) -> object:
    """A value for JSON, its type named where JSON has none (each database binds it its way)."""
    if isinstance(value, uuid.UUID):
        return {"uuid": str(value)}
    if isinstance(value, dt.datetime):
        return {"datetime": value.isoformat()}
    if isinstance(value, dt.date):
        return {"date": value.isoformat()}
    return value


def _decode(value: object, sqlite: bool) -> object:
    """The value `_encode` wrote, as the database's driver binds it: SQLite stores a UUID and
    a date as their text."""
    if not isinstance(value, dict):
        return value
    ((kind, text),) = value.items()
    if kind == "uuid":
        return text if sqlite else uuid.UUID(text)
    if kind == "date":
        return text if sqlite else dt.date.fromisoformat(text)
    return dt.datetime.fromisoformat(text)


async def main(url: str, table: str, target: str | None, rows: str | None) -> None:
    await migrate(config=db.tortoise_config(url, create=True), target=target)
    await Tortoise.init(config=db.tortoise_config(url))
    conn = connections.get("default")
    try:
        if rows is None:
            print(json.dumps(await conn.execute_query_dict(f'SELECT * FROM "{table}"'), default=str))
            return
        sqlite = sql.is_sqlite(conn)
        for row in json.loads(rows):
            columns = ", ".join(f'"{column}"' for column in row)
            places = ", ".join(f"${n}" for n in range(1, len(row) + 1))
            statement = f'INSERT INTO "{table}" ({columns}) VALUES ({places})'
            await conn.execute_query(
                sql.text_for(conn, statement), [_decode(value, sqlite) for value in row.values()]
            )
    finally:
        await Tortoise.close_connections()


if __name__ == "__main__":
    url, table, *target_and_rows = sys.argv[1:]
    target, rows = target_and_rows or (None, None)
    asyncio.run(main(url, table, target, rows))
